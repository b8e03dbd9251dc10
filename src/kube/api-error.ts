import { z } from 'zod';
import { boundText, type Scrubber } from '../results/result-bounds.js';
import { CheckFailure } from '../results/result.js';
import { describeGet, describeList, rbacResource, type CollectionRef, type ListQuery, type ObjectRef } from './object-ref.js';

/** The meta/v1 Status object the API server answers errors with (only what messages use). */
export const statusSchema = z.object({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z.object({ name: z.string().optional(), kind: z.string().optional() }).optional(),
});
export type ApiStatus = z.infer<typeof statusSchema>;

/** Of a Status message, a sentence or two is shown (cut after scrubbing: see otherFailure). */
const MAX_MESSAGE = 300;

/** An error body's JSON as a Status; undefined for anything else (proxies answer plain text). */
export function parseStatus(json: unknown): ApiStatus | undefined {
  const parsed = statusSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Turns a non-2xx answer into a failure whose message names the RBAC verb and resource, so the
 * fix (a Role rule, a missing object, a missing CRD) is readable from the result alone.
 */
export function failureForStatus(code: number, status: ApiStatus | undefined, ref: ObjectRef, source: string, scrub: Scrubber): CheckFailure {
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
  return otherFailure(code, status, request, scrub);
}

/** The same for a list; a 404 there can only mean the resource type is not served. */
export function failureForListStatus(code: number, status: ApiStatus | undefined, ref: CollectionRef, query: ListQuery, source: string, scrub: Scrubber): CheckFailure {
  const request = describeList(ref, query);
  const common = commonFailure(code, request, source);
  if (common) return common;
  if (code === 404) return new CheckFailure('assertion', `${request}: the API server does not serve ${rbacResource(ref)}/${ref.version}`);
  return otherFailure(code, status, request, scrub);
}

function commonFailure(code: number, request: string, source: string): CheckFailure | undefined {
  if (code === 401) {
    return new CheckFailure('auth', `unauthorized: ${request} (401): the API server did not accept the credentials of ${source}`);
  }
  if (code === 403) return new CheckFailure('auth', `forbidden: ${request} (403)`);
  return undefined;
}

/**
 * The server's own words, as a 500 or 429 carries them. A server or proxy may quote the request
 * in them, Authorization header included: they are scrubbed of the request's credentials before
 * the cut, so a token that straddles it is still recognised whole.
 */
function otherFailure(code: number, status: ApiStatus | undefined, request: string, scrub: Scrubber): CheckFailure {
  const said = status?.message ? `: ${boundText(status.message, MAX_MESSAGE, scrub)}` : '';
  return new CheckFailure('error', `Kubernetes API answered ${code} to ${request}${said}`);
}

/** Zod issues as "path: message", without the offending values (a Secret's are never shown). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
