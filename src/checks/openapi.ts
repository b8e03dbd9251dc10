import { z } from 'zod';
import { baseFields } from '../config/base.js';
import type { Phases, TlsInfo } from '../net/http-request.js';
import { expandExpectations, type ReleaseExpander } from '../config/release.js';
import type { Failure } from '../results/result.js';
import type { CheckType } from './check-type.js';
import { httpSamples, ipAddress, sendCheckRequest } from './http.js';
import { checkStatus } from './http-expect.js';
import { matchesPattern, regex } from './pattern.js';
import { httpUrl, maxBodyBytes, requestHeaders, resolveHeaders } from './request-fields.js';
import { httpProbeSamples, responseFacts } from './http-probe-samples.js';
import { describeDocument, findMissing, readDocument, type OpenapiDocument } from './openapi-document.js';

const METHOD = 'GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE';
const requiredPath = z
  .string()
  .regex(new RegExp(`^(?:(?:${METHOD})\\s+)?/\\S*$`), 'expected a path (/api/v2/hubs) or a method and a path (GET /api/v2/hubs)')
  .meta({ description: 'a path that must exist (/api/v2/hubs), or a method it must have (GET /api/v2/hubs)' });
const textExpectation = z.union([z.string(), z.strictObject({ matches: regex })], { error: 'expected a string (exact) or { matches: REGEX }' });

const VERSION_ERROR = 'expected a version such as 3, 3.1 or 2 (Swagger 2.0)';
const expectSchema = z.strictObject({
  paths: z.array(requiredPath).default([]),
  title: textExpectation.optional().meta({ description: 'info.title: exact, or { matches: REGEX }' }),
  version: textExpectation.optional().meta({ description: 'info.version: exact, or { matches: REGEX }' }),
  openapi: z
    .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+){0,2}$/, VERSION_ERROR)], { error: VERSION_ERROR })
    .transform((v) => String(v))
    .default('3')
    .meta({ description: 'the specification version, as a prefix: 3 (any 3.x, the default), 3.1, or 2 for Swagger 2.0' }),
});

export const schema = z.strictObject({
  ...baseFields,
  type: z.literal('openapi'),
  url: httpUrl,
  resolve: ipAddress.optional().meta({ description: "dial this IP; Host, SNI and certificate checks keep the URL's hostname" }),
  ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
  insecureSkipVerify: z.boolean().default(false),
  headers: requestHeaders,
  maxBodyBytes: maxBodyBytes(5 * 1024 * 1024),
  expect: expectSchema.prefault({}),
});
export type OpenapiSpec = z.infer<typeof schema>;

export interface OpenapiObservations {
  url: string;
  /** "dns" or the pinned IP: the `via` label. */
  via: string;
  address?: string;
  status?: number;
  phases?: Phases;
  totalMs?: number;
  tls?: TlsInfo;
  contentType?: string;
  bodyBytes?: number;
  contentLength?: number;
  httpVersion?: string;
  lastModified?: string;
  /** How the body was read. */
  format?: 'json' | 'yaml';
  specification?: 'openapi' | 'swagger';
  /** The `openapi` (or `swagger`) field: 3.0.3, 3.1.0, 2.0. */
  openapiVersion?: string;
  title?: string;
  version?: string;
  pathCount?: number;
  /** The required paths and methods the document lacks, as written in the check; absent when it could not be read. */
  missing?: string[];
}

/** Fetches an OpenAPI (or Swagger 2.0) document and reports what it lacks; never the document itself. */
export const check: CheckType<OpenapiSpec, OpenapiObservations> = {
  async run(spec, ctx) {
    const expect = expandExpectations(spec.expect, walkOpenapiExpectations, ctx.services.release);
    const headers = await resolveHeaders(spec.headers);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'accept')) headers.accept = 'application/json, application/yaml;q=0.9, */*;q=0.5';
    const observed: OpenapiObservations = { url: spec.url, via: spec.resolve ?? 'dns' };
    const sent = await sendCheckRequest(spec, headers, ctx, (seen) => {
      ctx.progress({ ...observed, ...seen });
    });
    if ('failure' in sent) return { observations: { ...observed, ...sent.seen }, failure: sent.failure };
    const { response } = sent;
    const contentType = response.headers['content-type'];
    const observations: OpenapiObservations = {
      ...observed,
      address: response.address,
      status: response.status,
      phases: response.phases,
      totalMs: response.totalMs,
      ...(response.tls && { tls: response.tls }),
      ...(contentType !== undefined && { contentType }),
      bodyBytes: response.bodyBytes,
      ...responseFacts(response),
    };
    const statusFailure = checkStatus(['2xx'], response);
    if (statusFailure) return { observations, failure: statusFailure };
    const parsed = await readDocument(response.body, contentType, ctx.signal);
    if ('error' in parsed) return { observations, failure: { reason: 'assertion', message: parsed.error } };
    const document = parsed.document;
    const missing = findMissing(document, spec.expect.paths);
    Object.assign(observations, {
      format: parsed.format,
      specification: document.specification,
      openapiVersion: document.version,
      ...(document.title !== undefined && { title: document.title }),
      ...(document.apiVersion !== undefined && { version: document.apiVersion }),
      pathCount: document.paths.size,
      missing,
    });
    ctx.trace('document', { format: parsed.format, document: describeDocument(document), missing });
    const failure = judge(expect, document, missing);
    return failure ? { observations, failure } : { observations };
  },

  samples(spec, o) {
    const out = httpSamples(spec.resolve ?? 'dns', o);
    if (o?.missing) out.push({ name: 'driftwatch_openapi_missing_paths', value: o.missing.length });
    return out;
  },

  probeSamples: (_spec, o) => httpProbeSamples(o),

  target: {
    get: (spec) => spec.url,
    set: (spec, target) => ({ ...spec, url: target, resolve: undefined }),
  },
};

/** Every unmet expectation in one message. */
function judge(expect: OpenapiSpec['expect'], document: OpenapiDocument, missing: readonly string[]): Failure | undefined {
  const problems: string[] = [];
  if (document.version !== expect.openapi && !document.version.startsWith(`${expect.openapi}.`)) {
    problems.push(`document is ${describeVersion(document.version)}, expected ${describeVersion(expect.openapi)}${expect.openapi.split('.').length < 3 ? '.x' : ''}`);
  }
  if (missing.length > 0) {
    const count = expect.paths.length;
    problems.push(`missing ${missing.length} of ${count} required path${count === 1 ? '' : 's'}: ${missing.join(', ')}`);
  }
  for (const [key, wanted] of [['title', expect.title] as const, ['version', expect.version] as const]) {
    if (wanted === undefined) continue;
    const actual = key === 'title' ? document.title : document.apiVersion;
    const shown = typeof wanted === 'string' ? JSON.stringify(wanted) : `one matching /${wanted.matches}/`;
    if (actual === undefined) problems.push(`info.${key} is missing, expected ${shown}`);
    else if (typeof wanted === 'string' ? actual !== wanted : !matchesPattern(wanted.matches, actual)) problems.push(`info.${key} is ${JSON.stringify(actual)}, expected ${shown}`);
  }
  return problems.length > 0 ? { reason: 'assertion', message: problems.join('; ') } : undefined;
}

function describeVersion(version: string): string {
  return version.startsWith('2') || version.startsWith('1') ? `Swagger ${version}` : `OpenAPI ${version}`;
}

/** The OpenAPI document's info.title and info.version expectations (required paths are templates with {braces} of their own: never expanded). */
export function walkOpenapiExpectations(expect: OpenapiSpec['expect'], expand: ReleaseExpander): OpenapiSpec['expect'] {
  const text = (wanted: OpenapiSpec['expect']['title'], key: 'title' | 'version') =>
    wanted === undefined ? undefined : typeof wanted === 'string' ? expand(wanted, ['expect', key], 'text') : { matches: expand(wanted.matches, ['expect', key, 'matches'], 'pattern') };
  return { ...expect, title: text(expect.title, 'title'), version: text(expect.version, 'version') };
}
