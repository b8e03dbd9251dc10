import { z } from 'zod';
import { CheckFailure } from '../result.js';
import { describeGet, describeList, rbacResource, type CollectionRef, type ListQuery, type ObjectRef } from './object-ref.js';

/** The meta/v1 Status object the API server answers errors with (only what messages use). */
const statusSchema = z.object({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z.object({ name: z.string().optional(), kind: z.string().optional() }).optional(),
});
type ApiStatus = z.infer<typeof statusSchema>;

const MAX_MESSAGE = 300;

/** Parses an error body as a Status; undefined for anything else (proxies answer plain text). */
export function parseStatus(body: string): ApiStatus | undefined {
  try {
    const parsed = statusSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns a non-2xx answer into a failure whose message names the RBAC verb and resource, so the
 * fix (a Role rule, a missing object, a missing CRD) is readable from the result alone.
 */
export function failureForStatus(code: number, status: ApiStatus | undefined, ref: ObjectRef, source: string): CheckFailure {
  const request = describeGet(ref);
  const common = commonFailure(code, request, source);
  if (common) return common;
  if (code === 404) {
    // A 404 without the object's name in details means the path itself is unknown: the type
    // (usually a CRD such as CloudNativePG's) is not served at all.
    if (status?.details?.name === undefined && ref.group !== '') {
      return new CheckFailure('assertion', `${ref.kind} ${ref.name} not found in namespace ${ref.namespace}: the API server does not serve ${rbacResource(ref)}/${ref.version} (is the CRD installed?)`);
    }
    return new CheckFailure('assertion', `${ref.kind} ${ref.name} not found in namespace ${ref.namespace}`);
  }
  return otherFailure(code, status, request);
}

/** The same for a list; a 404 there can only mean the resource type is not served. */
export function failureForListStatus(code: number, status: ApiStatus | undefined, ref: CollectionRef, query: ListQuery, source: string): CheckFailure {
  const request = describeList(ref, query);
  const common = commonFailure(code, request, source);
  if (common) return common;
  if (code === 404) return new CheckFailure('assertion', `${request}: the API server does not serve ${rbacResource(ref)}/${ref.version}`);
  return otherFailure(code, status, request);
}

function commonFailure(code: number, request: string, source: string): CheckFailure | undefined {
  if (code === 401) {
    return new CheckFailure('auth', `unauthorized: ${request} (401): the API server did not accept the credentials of ${source}`);
  }
  if (code === 403) return new CheckFailure('auth', `forbidden: ${request} (403)`);
  return undefined;
}

function otherFailure(code: number, status: ApiStatus | undefined, request: string): CheckFailure {
  const said = status?.message ? `: ${truncate(status.message)}` : '';
  return new CheckFailure('error', `Kubernetes API answered ${code} to ${request}${said}`);
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}...` : text;
}

/** Zod issues as "path: message", without the offending values (a Secret's are never shown). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
