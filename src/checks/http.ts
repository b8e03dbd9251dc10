import { z } from 'zod';
import { classifyError } from '../results/classify.js';
import { baseFields } from '../config/base.js';
import { resolveValue, secretRef } from '../config/secret.js';
import { DEFAULT_MAX_BODY_BYTES, httpRequest, HttpRequestError, type HttpResponse, type Phases, type TlsInfo } from '../net/http-request.js';
import { expandExpectations } from '../config/release.js';
import type { Failure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';
import type { ProbeSample, Sample } from '../results/run.js';
import { httpUrl, maxBodyBytes, requestHeaders, resolveHeaders } from './request-fields.js';
import { checkExpectations, checkStatus, expectSchema, walkExpectations } from './http-expect.js';
import { patternProblems } from './http-match.js';
import { ipPreference, ipProtocolFields } from './ip-protocol.js';
import { addResponseFacts, httpProbeSamples } from './http-probe-samples.js';
import { askEveryEndpoint, endpointSamples, endpointsFrom, type EndpointAnswer, type EndpointsObservations } from './service-endpoints.js';
import type { ServiceEndpoint } from '../kube/endpoint-slices.js';

export const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });
/** HTTP basic auth; the password only as a secret reference, never inline. */
const basicAuth = z
  .strictObject({
    username: z.union([z.string(), secretRef], { error: 'expected a string or a secret reference ({ env: NAME } or { file: /path })' }),
    password: secretRef,
  })
  .meta({ description: 'HTTP basic auth: username, and password as { env: NAME } or { file: /path }' });

export const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);



export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('http'),
    url: httpUrl,
    method: httpMethod.default('GET'),
    headers: requestHeaders,
    body: z.string().optional(),
    resolve: ipAddress.optional().meta({ description: "dial this IP; Host, SNI and certificate checks keep the URL's hostname" }),
    endpointsFrom,
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
    insecureSkipVerify: z.boolean().default(false),
    followRedirects: z.boolean().default(false).meta({ description: 'follow up to 10 redirects' }),
    redirectHeaders: z
      .array(z.string().min(1))
      .default([])
      .meta({ description: 'inline headers still sent when a followed redirect leaves the origin (default none; secret references never are)' }),
    maxBodyBytes: maxBodyBytes(DEFAULT_MAX_BODY_BYTES),
    basicAuth: basicAuth.optional(),
    ...ipProtocolFields,
    expect: expectSchema.prefault({}),
  })
  .superRefine((spec, ctx) => {
    if (spec.endpointsFrom !== undefined && spec.resolve !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpointsFrom'], message: 'give either resolve (one address) or endpointsFrom (every endpoint of a Service), not both' });
    }
    if (spec.expect.certMinDaysValid !== undefined && !spec.url.startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['expect', 'certMinDaysValid'], message: 'needs an https:// url' });
    }
    spec.redirectHeaders.forEach((name, i) => {
      const value = Object.entries(spec.headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
      if (value === undefined) ctx.addIssue({ code: 'custom', path: ['redirectHeaders', i], message: `no header ${name} in headers` });
      else if (typeof value !== 'string') ctx.addIssue({ code: 'custom', path: ['redirectHeaders', i], message: `${name} is a secret reference: secrets never follow a redirect to another origin` });
    });
  });
export type HttpSpec = z.infer<typeof schema>;

export interface HttpObservations {
  url: string;
  method: string;
  /** "dns" or the pinned IP: the `via` label. */
  via: string;
  address?: string;
  status?: number;
  finalUrl?: string;
  redirects?: number;
  phases?: Phases;
  firstByteMs?: number;
  totalMs?: number;
  bodyBytes?: number;
  /** The Content-Length header; -1 when the response had none (chunked), as blackbox reports it. */
  contentLength?: number;
  /** "1.1" */
  httpVersion?: string;
  /** The Last-Modified header, when it parses as a date. */
  lastModified?: string;
  /** The status was accepted but a body or header pattern failed (blackbox's probe_failed_due_to_regex). */
  failedDueToRegex?: boolean;
  tls?: TlsInfo;
  /** With endpointsFrom: every endpoint and what it answered. */
  endpoints?: EndpointsObservations;
}

/** One request, then every expectation; the body and header values stay out of the observations. */
export const check: CheckType<HttpSpec, HttpObservations> = {
  async run(spec, ctx) {
    const expect = expandExpectations(spec.expect, walkExpectations, ctx.services.release);
    // No headers to resolve (most checks): no await for nothing.
    const headers = hasHeaders(spec) ? await resolveHeaders(spec.headers) : {};
    if (spec.basicAuth) headers.authorization = await basicAuthorization(spec.basicAuth);
    if (spec.endpointsFrom !== undefined) {
      const { observations, failure } = await askEveryEndpoint(spec.endpointsFrom, ctx, (endpoint) => askEndpoint(spec, expect, headers, endpoint, ctx));
      const seen = { url: spec.url, method: spec.method, via: 'endpoints', endpoints: observations };
      return failure ? { observations: seen, failure } : { observations: seen };
    }
    const via = spec.resolve ?? 'dns';
    ctx.trace('request', { method: spec.method, url: spec.url, via, headers: Object.keys(headers) });
    // Object.assign onto a fresh literal, not { ...a, ...b }: on Node 20 adding keys after a
    // leading spread costs about a microsecond each time (issue 29).
    const sent = await sendCheckRequest(spec, headers, ctx, (seen) => {
      ctx.progress(Object.assign({ url: spec.url, method: spec.method, via }, seen));
    });
    if ('failure' in sent) return { observations: Object.assign({ url: spec.url, method: spec.method, via }, sent.seen), failure: sent.failure };
    const { response } = sent;
    const statusFailure = checkStatus(expect.status, response);
    const patterns = hasPatterns(expect) ? await patternProblems(expect, response, ctx.signal) : [];
    // Assigned in order rather than spread in the middle of a literal: each spread made an object
    // and copied it (issue 29). The key order is the JSON's.
    const observations: HttpObservations = { url: spec.url, method: spec.method, via, address: response.address, status: response.status };
    if (response.url !== specUrl(spec).href) observations.finalUrl = response.url;
    observations.redirects = response.redirects;
    observations.phases = response.phases;
    observations.firstByteMs = response.firstByteMs;
    observations.totalMs = response.totalMs;
    observations.bodyBytes = response.bodyBytes;
    addResponseFacts(observations, response);
    if (statusFailure === undefined) observations.failedDueToRegex = patterns.length > 0;
    if (response.tls) observations.tls = response.tls;
    const failure = statusFailure ?? checkExpectations(expect, response, patterns);
    return failure ? { observations, failure } : { observations };
  },
  samples,
  probeSamples,
  target: {
    get: (spec) => spec.url,
    // A pinned IP belongs to the check's own host, not to a caller's.
    set: (spec, target) => ({ ...spec, url: target, resolve: undefined }),
  },
};

/** The check's request pinned to one endpoint of a Service (its address and its own port), judged like every other answer. */
async function askEndpoint(spec: HttpSpec, expect: HttpSpec['expect'], headers: Record<string, string>, endpoint: ServiceEndpoint, ctx: RunContext): Promise<EndpointAnswer> {
  const sent = await sendCheckRequest({ ...spec, resolve: endpoint.address, resolvePort: endpoint.port }, headers, ctx);
  if ('failure' in sent) return { status: sent.seen.status, failure: sent.failure };
  const { response } = sent;
  const statusFailure = checkStatus(expect.status, response);
  const patterns = hasPatterns(expect) ? await patternProblems(expect, response, ctx.signal) : [];
  return { status: response.status, totalMs: response.totalMs, failure: statusFailure ?? checkExpectations(expect, response, patterns) };
}

function hasHeaders(spec: HttpSpec): boolean {
  for (const _ in spec.headers) return true;
  return false;
}

function hasPatterns(expect: HttpSpec['expect']): boolean {
  return expect.bodyMatches !== undefined || expect.bodyNotMatches !== undefined || expect.headers !== undefined;
}

/** The Authorization header of basic auth; the password is revealed for the request only. */
async function basicAuthorization(auth: NonNullable<HttpSpec['basicAuth']>): Promise<string> {
  const credentials = `${await resolveValue(auth.username)}:${await auth.password.reveal()}`;
  const header = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  // An echoed header shows the password only base64-encoded, with the user: scrub that too.
  auth.password.remember(header);
  return header;
}

/** What an http or openapi check's spec says about its one request. */
export type RequestSpec = Pick<HttpSpec, 'url' | 'resolve' | 'ca' | 'insecureSkipVerify' | 'maxBodyBytes'> &
  Partial<Pick<HttpSpec, 'method' | 'body' | 'followRedirects' | 'redirectHeaders' | 'ipProtocol' | 'ipProtocolFallback'>> & { resolvePort?: number | undefined };

/**
 * Sends a check's request. A transport failure (DNS, connect, TLS, timeout of the body, body
 * over the cap) comes back as a failure with what was seen before it, for the observations.
 */
export function sendCheckRequest(
  spec: RequestSpec,
  headers: Record<string, string>,
  ctx: RunContext,
  onConnected?: (seen: Pick<HttpObservations, 'address' | 'phases' | 'tls'>) => void,
): Promise<{ response: HttpResponse } | { failure: Failure; seen: Pick<HttpObservations, 'address' | 'status' | 'phases' | 'tls'> }> {
  const url = specUrl(spec);
  return httpRequest({
    // A URL that does not parse fails inside the request, as a request failure.
    url: url.parsed ?? spec.url,
    method: spec.method,
    headers,
    body: spec.body,
    resolve: spec.resolve,
    resolvePort: spec.resolvePort,
    ca: spec.ca,
    insecureSkipVerify: spec.insecureSkipVerify,
    followRedirects: spec.followRedirects,
    crossOriginHeaders: spec.redirectHeaders,
    refuseRedirect: ctx.refuseRedirect,
    maxBodyBytes: spec.maxBodyBytes,
    ipPreference: ipPreference({ ipProtocol: spec.ipProtocol, ipProtocolFallback: spec.ipProtocolFallback ?? true }),
    onConnected,
    signal: ctx.end,
    trace: ctx.trace.bind(ctx),
  }).then(
    (response) => ({ response }),
    (err: unknown) => {
      if (!(err instanceof HttpRequestError)) throw err;
      const { address, phases, tls, status } = err.partial;
      return { failure: requestFailure(err), seen: { address, status, phases, tls } };
    },
  );
}

/** A spec's URL, parsed once per spec (specs do not change after loading) rather than twice per run. */
const specUrls = new WeakMap<RequestSpec, { parsed: URL | undefined; href: string }>();
function specUrl(spec: RequestSpec): { parsed: URL | undefined; href: string } {
  let url = specUrls.get(spec);
  if (url === undefined) {
    const parsed = URL.canParse(spec.url) ? new URL(spec.url) : undefined;
    url = { parsed, href: parsed?.href ?? spec.url };
    specUrls.set(spec, url);
  }
  return url;
}

/** An oversized body is an unmet expectation, not a transport failure. */
export function requestFailure(err: HttpRequestError): Failure {
  return err.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE' ? { reason: 'assertion', message: err.message } : classifyError(err);
}

const PHASES = ['dns', 'connect', 'tls', 'processing', 'transfer'] as const;

function samples(spec: HttpSpec, observations: HttpObservations | undefined): Sample[] {
  if (spec.endpointsFrom !== undefined) return endpointSamples(observations?.endpoints);
  const out = httpSamples(spec.resolve ?? 'dns', observations);
  out.push(...certExpirySamples(observations?.tls));
  return out;
}

/** Status and phase series of one exchange under its `via` label; shared with the ingress and openapi checks. */
export function httpSamples(via: string, observed: { status?: number | undefined; phases?: Phases | undefined } | undefined): Sample[] {
  const labels = viaLabels(via);
  const out: Sample[] = [{ name: 'driftwatch_http_status_code', labels: labels.status, value: observed?.status ?? 0 }];
  const phases = observed?.status === undefined ? undefined : observed.phases;
  if (phases) PHASES.forEach((phase, i) => out.push({ name: 'driftwatch_http_phase_duration_seconds', labels: labels.phases[i], value: phases[phase] / 1000 }));
  return out;
}

/**
 * The label objects of a `via`, made once: samples are read, never changed (runner/sample-shapes.ts
 * shares them too), and an http run made six of them each time. Pinned IPs are few, but a cap
 * keeps a caller's /probe targets from growing the table.
 */
const LABELS_BY_VIA = new Map<string, { status: Record<string, string>; phases: Record<string, string>[] }>();
function viaLabels(via: string): { status: Record<string, string>; phases: Record<string, string>[] } {
  let labels = LABELS_BY_VIA.get(via);
  if (labels === undefined) {
    labels = { status: { via }, phases: PHASES.map((phase) => ({ via, phase })) };
    if (LABELS_BY_VIA.size < 1024) LABELS_BY_VIA.set(via, labels);
  }
  return labels;
}

export function certExpirySamples(tls: TlsInfo | undefined): Sample[] {
  const cert = tls?.certificate;
  return cert ? [{ name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: Date.parse(cert.validTo) / 1000 }] : [];
}

function probeSamples(_spec: HttpSpec, observations: HttpObservations | undefined): ProbeSample[] {
  return httpProbeSamples(observations);
}
