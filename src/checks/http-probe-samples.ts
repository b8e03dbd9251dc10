import { addressSamples, probeSample, tlsSamples } from './blackbox-series.js';
import type { HttpResponse, Phases, TlsInfo } from '../net/http-request.js';
import type { ProbeSample } from '../results/run.js';

/** What an exchange showed, as the http, openapi and ingress checks observe it. */
export interface HttpProbeView {
  address?: string | undefined;
  status?: number | undefined;
  phases?: Phases | undefined;
  redirects?: number | undefined;
  contentLength?: number | undefined;
  bodyBytes?: number | undefined;
  httpVersion?: string | undefined;
  lastModified?: string | undefined;
  failedDueToRegex?: boolean | undefined;
  tls?: TlsInfo | undefined;
}

/** blackbox_exporter's names for the same phases. */
const PHASES = [
  ['dns', 'resolve'],
  ['connect', 'connect'],
  ['tls', 'tls'],
  ['processing', 'processing'],
  ['transfer', 'transfer'],
] as const;

/**
 * One exchange in blackbox's http prober series (prober/http.go). Like blackbox, the phase,
 * size and version series are there on a failed run too (0 for what did not happen), and the
 * TLS series only when a response came over TLS.
 */
export function httpProbeSamples(o: HttpProbeView | undefined): ProbeSample[] {
  const answered = o?.status !== undefined;
  const out: ProbeSample[] = [
    ...addressSamples(o?.address, o?.phases?.dns),
    probeSample('probe_http_status_code', o?.status ?? 0),
    ...PHASES.map(([ours, theirs]) => probeSample('probe_http_duration_seconds', (o?.phases?.[ours] ?? 0) / 1000, { phase: theirs })),
    probeSample('probe_http_content_length', answered ? (o.contentLength ?? -1) : 0),
    probeSample('probe_http_uncompressed_body_length', answered ? (o.bodyBytes ?? 0) : 0),
    probeSample('probe_http_redirects', o?.redirects ?? 0),
    probeSample('probe_http_ssl', answered && o.tls ? 1 : 0),
    probeSample('probe_http_version', answered ? Number(o.httpVersion ?? 0) : 0),
    probeSample('probe_failed_due_to_regex', o?.failedDueToRegex ? 1 : 0),
  ];
  if (answered && o.lastModified !== undefined) out.push(probeSample('probe_http_last_modified_timestamp_seconds', lastModifiedSeconds(o.lastModified)));
  if (answered) out.push(...tlsSamples(o.tls));
  return out;
}

/** What blackbox reads off a response's head: Content-Length (-1 when absent), version, Last-Modified. */
export interface ResponseFacts {
  contentLength: number;
  httpVersion: string;
  lastModified?: string;
}

export function responseFacts(response: HttpResponse): ResponseFacts {
  return addResponseFacts({ contentLength: -1, httpVersion: '' }, response);
}

/** The facts written onto `into`, in that order: an http check's observations get them without a copy. */
export function addResponseFacts<T extends Partial<ResponseFacts>>(into: T, response: HttpResponse): T {
  const length = Number(response.headers['content-length'] ?? 'none');
  const lastModified = lastModifiedIso(response.headers['last-modified'] ?? '');
  into.contentLength = Number.isInteger(length) ? length : -1;
  into.httpVersion = response.httpVersion;
  if (lastModified !== undefined) into.lastModified = lastModified;
  return into;
}

/**
 * Dates read and written once per distinct value, not per run: a target sends the same
 * Last-Modified run after run, and parsing an HTTP date and writing it as ISO text was a
 * noticeable part of a run's own CPU (issue 29). Bounded: cleared when full.
 */
const MAX_DATES = 256;
const isoByHeader = new Map<string, string | undefined>();
const secondsByIso = new Map<string, number>();

/** The Last-Modified header as ISO text, undefined when it is not a date. */
function lastModifiedIso(header: string): string | undefined {
  if (isoByHeader.has(header)) return isoByHeader.get(header);
  const ms = Date.parse(header);
  const iso = Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  if (isoByHeader.size >= MAX_DATES) isoByHeader.clear();
  isoByHeader.set(header, iso);
  return iso;
}

function lastModifiedSeconds(iso: string): number {
  let seconds = secondsByIso.get(iso);
  if (seconds === undefined) {
    seconds = Date.parse(iso) / 1000;
    if (secondsByIso.size >= MAX_DATES) secondsByIso.clear();
    secondsByIso.set(iso, seconds);
  }
  return seconds;
}
