import { request as sendRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { errorCode } from '../results/classify.js';
import { readCaFile, type TlsInfo } from './certificate.js';
import { dial, round, type Connection } from './http-connector.js';
import { guard } from './listener-guard.js';
import { withUserAgent } from './user-agent.js';
import type { IpPreference } from './address-lookup.js';
import type { EndSignal } from '../results/end-signal.js';

export type { TlsInfo } from './certificate.js';

export interface HttpRequestOptions {
  /** Text, or a URL parsed once for many requests (a check's own; never changed here). */
  url: string | URL;
  method?: string;
  /** Already resolved (secrets revealed); never logged or traced here. */
  headers?: Record<string, string>;
  body?: string;
  /** Dial this IP for the URL's hostname; Host, SNI and verification keep the hostname (curl --resolve). */
  resolve?: string;
  /** With resolve: dial this port too, for the URL's host and port (curl --connect-to: a pod's own port behind a Service). */
  resolvePort?: number | undefined;
  /** Path of a PEM file to trust instead of the system roots. */
  ca?: string;
  insecureSkipVerify?: boolean;
  /** Follow up to 10 redirects (default: report the 3xx). */
  followRedirects?: boolean;
  /** Names (any case) of the headers still sent once a redirect leaves the origin; every other header is dropped then. */
  crossOriginHeaders?: readonly string[] | undefined;
  /** Asked before each redirect is followed: a reason refuses it (DRIFTWATCH_REDIRECT_REFUSED). */
  refuseRedirect?: ((url: string) => string | undefined) | undefined;
  /** Which address family to dial first, or only (blackbox's preferred_ip_protocol). */
  ipPreference?: IpPreference | undefined;
  /** Told what is known once each connection is set up, before the request: for a run cut off later. */
  onConnected?: ((seen: PartialResponse) => void) | undefined;
  /** Default 1 MiB, at most MAX_BODY_BYTES; a longer body fails with UND_ERR_RES_EXCEEDED_MAX_SIZE (the code undici uses, kept for the checks and their tests). */
  maxBodyBytes?: number;
  /** The run's end: an AbortSignal, or the runner's deadline itself (RunContext.end), which makes none. */
  signal: EndSignal;
  trace?: (step: string, data?: Record<string, unknown>) => void;
}

/** Milliseconds, summed over redirects; their sum never exceeds totalMs. */
export interface Phases {
  dns: number;
  connect: number;
  tls: number;
  processing: number;
  transfer: number;
}

export interface HttpResponse {
  /** The URL that answered (differs from the request URL after redirects). */
  url: string;
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  bodyBytes: number;
  redirects: number;
  /** The IP dialled for the final response. */
  address: string;
  /** The final response's HTTP version, as node:http reads it ("1.1"). */
  httpVersion: string;
  phases: Phases;
  firstByteMs: number;
  totalMs: number;
  tls?: TlsInfo;
}

/** What was learnt before a request failed, so a failure can still name the address and certificate. */
export interface PartialResponse {
  address?: string;
  phases: Phases;
  tls?: TlsInfo;
  status?: number;
}

/** A failed request: the original error as cause, its code, and what was seen before it failed. */
export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
  readonly code: string | undefined;
  constructor(
    cause: unknown,
    readonly partial: PartialResponse,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.code = errorCode(cause);
  }
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * The largest body cap a check may set (64 MiB): the body is held in memory and decoded to one
 * string (up to twice its size again), so a larger cap risks the daemon's memory (and past about
 * 512 MiB Node cannot make the string at all: ERR_STRING_TOO_LONG). Big OpenAPI documents are
 * around 10 MB.
 */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One HTTP/1.1 exchange on a fresh connection, timed by phase, as the http, ingress and openapi
 * checks need it. The connection is ours (http-connector.ts: DNS, TCP and TLS timed apart, the
 * certificate seen and verified before a byte is written); node:http writes the request on it and
 * parses the answer. Not undici: a fresh connection per request cost 0.66-0.72 ms of CPU through
 * an undici Client against 0.36-0.39 ms through node:http (bench/README.md), and fresh
 * connections are the point here. Any status is a response; failures throw HttpRequestError
 * carrying the original code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED,
 * UND_ERR_RES_EXCEEDED_MAX_SIZE...), except an abort, which is rethrown as is for the runner.
 */
export async function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const t0 = performance.now();
  const phases: Phases = { dns: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const ca = options.ca === undefined ? undefined : await readCaFile(options.ca, options.signal);
  const sockets = new Set<Socket>();
  // The runner's AbortSignal owns every timeout: cutting the sockets ends a dial or an exchange.
  const onAbort = () => {
    for (const socket of sockets) socket.destroy(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  let status: number | undefined;
  let last: Connection | undefined;
  let lastCounted = false;
  try {
    if (options.signal.aborted) throw options.signal.reason;
    let url = parseUrl(options.url);
    const resolve = options.resolve === undefined ? undefined : { host: url.hostname.replace(/^\[|\]$/g, ''), address: options.resolve, ...(options.resolvePort !== undefined && { port: options.resolvePort, from: url.port }) };
    let method = (options.method ?? 'GET').toUpperCase();
    let body = options.body;
    let headers = withUserAgent(options.headers);
    for (let redirects = 0; ; redirects++) {
      const hopStart = performance.now();
      last = { dns: 0, connect: 0, tls: 0, address: undefined, readyAt: 0 };
      lastCounted = false;
      const socket = await dial({ url, resolve, ca, insecureSkipVerify: options.insecureSkipVerify, ipPreference: options.ipPreference, trace: options.trace, sockets }, last);
      addConnection(phases, last);
      lastCounted = true;
      if (options.onConnected) {
        const seen: PartialResponse = { address: last.address, phases: floorAll(phases) };
        if (last.tlsInfo) seen.tls = last.tlsInfo;
        options.onConnected(seen);
      }
      const hop = await exchange(socket, last, url, method, headers, body, options, phases, hopStart, (s) => (status = s));
      const location = hop.headers.location;
      if (!options.followRedirects || !REDIRECTS.has(hop.status) || location === undefined || redirects >= MAX_REDIRECTS) {
        // Onto the hop itself: on Node 20, { ...hop, url } costs about a microsecond and a half.
        return Object.assign(hop, { url: url.href, redirects, phases: floorAll(phases), totalMs: Math.ceil((performance.now() - t0) * 1000) / 1000 });
      }
      const next = new URL(location, url);
      options.trace?.('redirect', { status: hop.status, to: next.href });
      const refused = options.refuseRedirect?.(next.href);
      if (refused !== undefined) throw Object.assign(new Error(`redirect to ${next.href} refused: ${refused}`), { code: 'DRIFTWATCH_REDIRECT_REFUSED' });
      // Headers stay with the origin they were written for (credentials above all, as browsers
      // and curl do); only those the check lets cross go along, and once dropped they stay dropped.
      if (next.origin !== url.origin) headers = keepHeaders(headers, options.crossOriginHeaders ?? []);
      if (hop.status === 303 || (hop.status <= 302 && method === 'POST')) [method, body] = ['GET', undefined];
      url = next;
    }
  } catch (err) {
    if (options.signal.aborted) throw err;
    if (last && !lastCounted) addConnection(phases, last);
    throw new HttpRequestError(err, { address: last?.address, phases: floorAll(phases), tls: last?.tlsInfo, ...(status !== undefined && { status }) });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    for (const socket of sockets) socket.destroy();
  }
}

function parseUrl(text: string | URL): URL {
  const url = typeof text === 'string' ? new URL(text) : text;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw Object.assign(new TypeError(`unsupported protocol ${url.protocol} in ${url.origin}, expected http: or https:`), { code: 'ERR_INVALID_URL' });
  }
  return url;
}

type Hop = Omit<HttpResponse, 'url' | 'redirects' | 'phases' | 'totalMs'>;

/** Writes one request on a connected socket and reads the answer, its body capped. */
function exchange(socket: Socket, connection: Connection, url: URL, method: string, headers: Record<string, string>, body: string | undefined, options: HttpRequestOptions, phases: Phases, hopStart: number, onStatus: (status: number) => void): Promise<Hop> {
  const { trace } = options;
  // Bounded here too, whoever the caller: no more than this is ever held or decoded.
  const limit = Math.min(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES);
  const readyAt = performance.now();
  // Host as the URL has it (no default port); one the check sets itself wins.
  const withHost = Object.keys(headers).some((name) => name.toLowerCase() === 'host') ? headers : { host: url.host, ...headers };
  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    const req = sendRequest({ createConnection: () => socket, method, path: url.pathname + url.search, headers: withHost, setHost: false });
    // on, not once, here and on the response: fail() settles once, and once() wraps every listener.
    req.on('error', fail);
    req.on('response', guard(fail, (res: IncomingMessage) => {
      const firstByte = performance.now();
      const statusCode = res.statusCode ?? 0;
      onStatus(statusCode);
      phases.processing += firstByte - readyAt;
      trace?.('response', { status: statusCode, firstByteMs: round(firstByte - hopStart) });
      const chunks: Buffer[] = [];
      let bytes = 0;
      const transferDone = () => {
        phases.transfer += performance.now() - firstByte;
      };
      res.on('data', guard(fail, (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limit) {
          transferDone();
          fail(Object.assign(new Error(`body exceeds maxBodyBytes ${limit}`), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' }));
        } else {
          chunks.push(chunk);
        }
      }));
      res.on('error', (err) => {
        if (!settled) transferDone();
        fail(err);
      });
      // A connection cut mid-body ends with 'error' on Node 20 and later; 'close' without 'end' covers the rest.
      res.on('close', () => {
        if (!settled) fail(Object.assign(new Error('connection closed before the body ended'), { code: 'ECONNRESET' }));
      });
      res.on('end', guard(fail, () => {
        if (settled) return;
        transferDone();
        trace?.('body', { bytes, transferMs: round(performance.now() - firstByte) });
        const hop: Hop = {
          status: statusCode,
          headers: flattenHeaders(res.headers),
          body: Buffer.concat(chunks).toString('utf8'),
          bodyBytes: bytes,
          address: connection.address ?? '',
          httpVersion: res.httpVersion,
          firstByteMs: round(firstByte - hopStart),
        };
        if (connection.tlsInfo) hop.tls = connection.tlsInfo;
        // Settled only now: a throw above must still reach fail().
        settled = true;
        resolve(hop);
      }));
    }));
    req.end(body);
  });
}

function keepHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const keep = new Set(names.map((name) => name.toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => keep.has(name.toLowerCase())));
}

function addConnection(phases: Phases, connection: Connection): void {
  phases.dns += connection.dns;
  phases.connect += connection.connect;
  phases.tls += connection.tls;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  // Keys, not entries: one array per response instead of one per header.
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function floorAll(phases: Phases): Phases {
  const floor = (ms: number) => Math.max(0, Math.floor(ms * 1000) / 1000);
  return { dns: floor(phases.dns), connect: floor(phases.connect), tls: floor(phases.tls), processing: floor(phases.processing), transfer: floor(phases.transfer) };
}
