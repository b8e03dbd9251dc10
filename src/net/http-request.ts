import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { Client, request, type buildConnector } from 'undici';
import { errorCode } from '../classify.js';
import { CertificateError, describeTls, describeVerifyError, readCaFile, type TlsInfo } from './certificate.js';

export type { TlsInfo } from './certificate.js';

export interface HttpRequestOptions {
  url: string;
  method?: string;
  /** Already resolved (secrets revealed); never logged or traced here. */
  headers?: Record<string, string>;
  body?: string;
  /** Dial this IP for the URL's hostname; Host, SNI and verification keep the hostname (curl --resolve). */
  resolve?: string;
  /** Path of a PEM file to trust instead of the system roots. */
  ca?: string;
  insecureSkipVerify?: boolean;
  /** Follow up to 10 redirects (default: report the 3xx). */
  followRedirects?: boolean;
  /** Default 1 MiB; a longer body fails with UND_ERR_RES_EXCEEDED_MAX_SIZE. */
  maxBodyBytes?: number;
  signal: AbortSignal;
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
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One connection's setup, measured by the connector. */
interface Connection {
  dns: number;
  connect: number;
  tls: number;
  address: string | undefined;
  readyAt: number;
  tlsInfo?: TlsInfo;
  /** Already added to the phases of a hop. */
  counted: boolean;
}

interface RunState {
  options: HttpRequestOptions;
  ca: string | undefined;
  sockets: Set<Socket>;
  /** Sockets not yet handed to undici: destroying them must fail the connect callback, or undici waits for it forever. */
  connecting: Set<Socket>;
  /** By origin ("https://host:port"): one Client, so one connection, per origin. */
  connections: Map<string, Connection>;
  /** The latest connection, set up or failed. */
  last: Connection | undefined;
}

/**
 * One HTTP exchange on a fresh connection, timed by phase, as the http, ingress and openapi
 * checks need it: undici's request() on per-run Clients (not fetch: 4x the CPU) with our own
 * connector, so DNS, TCP and TLS are timed apart and the certificate is seen even when it fails
 * verification. Any status is a response; failures throw HttpRequestError carrying the original
 * code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED, UND_ERR_RES_EXCEEDED_MAX_SIZE...), except an
 * abort, which is rethrown as is for the runner to report.
 */
export async function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const t0 = performance.now();
  const phases: Phases = { dns: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const ca = options.ca === undefined ? undefined : await readCaFile(options.ca, options.signal);
  const state: RunState = { options, ca, sockets: new Set(), connecting: new Set(), connections: new Map(), last: undefined };
  // One Client per origin (a redirect may change it) rather than an Agent: the Agent's pool per
  // origin, its copy of the options and its destroy errors cost ~35% of the request's CPU
  // (bench/README.md). The runner's AbortSignal owns every timeout; undici's own would race it.
  const connect = connector(state);
  const clients = new Map<string, Client>();
  const clientFor = (url: URL): Client => {
    let client = clients.get(url.origin);
    if (client === undefined) {
      client = new Client(url.origin, { connect, headersTimeout: 0, bodyTimeout: 0 });
      clients.set(url.origin, client);
    }
    return client;
  };
  // undici only applies an abort once a request has a connection; a connect that hangs must be cut here.
  const onAbort = () => {
    for (const socket of state.connecting) socket.destroy(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  let status: number | undefined;
  try {
    let url = parseUrl(options.url);
    let method = (options.method ?? 'GET').toUpperCase();
    let body = options.body;
    let headers = { ...options.headers };
    for (let redirects = 0; ; redirects++) {
      const hop = await exchange(clientFor(url), url, method, headers, body, state, phases, (s) => (status = s));
      const location = hop.headers.location;
      if (!options.followRedirects || !REDIRECTS.has(hop.status) || location === undefined || redirects >= MAX_REDIRECTS) {
        return { ...hop, url: url.href, redirects, phases: floorAll(phases), totalMs: Math.ceil((performance.now() - t0) * 1000) / 1000 };
      }
      const next = new URL(location, url);
      options.trace?.('redirect', { status: hop.status, to: next.href });
      // Credentials stay with the origin they were written for, as browsers and curl do.
      if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !/^(authorization|cookie)$/i.test(name)));
      if (hop.status === 303 || (hop.status <= 302 && method === 'POST')) [method, body] = ['GET', undefined];
      url = next;
    }
  } catch (err) {
    if (options.signal.aborted) throw err;
    const last = state.last;
    if (last) addConnection(phases, last);
    throw new HttpRequestError(err, { address: last?.address, phases: floorAll(phases), tls: last?.tlsInfo, ...(status !== undefined && { status }) });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    for (const socket of state.sockets) socket.destroy(state.connecting.has(socket) ? new Error('request ended while connecting') : undefined);
    await Promise.all([...clients.values()].map((client) => client.destroy()));
  }
}

function parseUrl(text: string): URL {
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw Object.assign(new TypeError(`unsupported protocol ${url.protocol} in ${url.origin}, expected http: or https:`), { code: 'ERR_INVALID_URL' });
  }
  return url;
}

type Hop = Omit<HttpResponse, 'url' | 'redirects' | 'phases' | 'totalMs'>;

async function exchange(client: Client, url: URL, method: string, headers: Record<string, string>, body: string | undefined, state: RunState, phases: Phases, onStatus: (status: number) => void): Promise<Hop> {
  const { signal, trace } = state.options;
  const hopStart = performance.now();
  const res = await request(url, { dispatcher: client, method, headers, body, signal });
  const firstByte = performance.now();
  onStatus(res.statusCode);
  const connection = state.connections.get(url.origin);
  const fresh = connection !== undefined && connection.readyAt >= hopStart;
  if (fresh) addConnection(phases, connection);
  phases.processing += firstByte - (fresh ? connection.readyAt : hopStart);
  trace?.('response', { status: res.statusCode, firstByteMs: round(firstByte - hopStart) });

  const limit = state.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of res.body) {
      if (!Buffer.isBuffer(chunk)) continue;
      bytes += chunk.length;
      if (bytes > limit) throw Object.assign(new Error(`body exceeds maxBodyBytes ${limit}`), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
      chunks.push(chunk);
    }
  } finally {
    phases.transfer += performance.now() - firstByte;
    res.body.destroy();
  }
  trace?.('body', { bytes, transferMs: round(performance.now() - firstByte) });
  return {
    status: res.statusCode,
    headers: flattenHeaders(res.headers),
    body: Buffer.concat(chunks).toString('utf8'),
    bodyBytes: bytes,
    address: connection?.address ?? '',
    firstByteMs: round(firstByte - hopStart),
    ...(connection?.tlsInfo && { tls: connection.tlsInfo }),
  };
}

function addConnection(phases: Phases, connection: Connection): void {
  if (connection.counted) return;
  connection.counted = true;
  phases.dns += connection.dns;
  phases.connect += connection.connect;
  phases.tls += connection.tls;
}

/**
 * Dials a fresh socket per origin. DNS is timed inside our lookup (net calls it synchronously,
 * so the socket's own lookup event comes too late to time), TCP at `connect`, TLS at
 * `secureConnect`. Verification is ours: Node would destroy the socket before we saw the
 * certificate, so we connect with rejectUnauthorized false and fail the connection ourselves,
 * before any request byte (or header secret) is written.
 */
function connector(state: RunState): buildConnector.connector {
  const { options } = state;
  const pinnedHost = options.resolve === undefined ? undefined : new URL(options.url).hostname.replace(/^\[|\]$/g, '');
  return (target, callback) => {
    const started = performance.now();
    const connection: Connection = { dns: 0, connect: 0, tls: 0, address: isIP(target.hostname) ? target.hostname : undefined, readyAt: 0, counted: false };
    state.last = connection;
    let dnsDone = started;
    const lookup = (hostname: string, lookupOptions: LookupOptions, done: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
      const lookupStart = performance.now();
      // On failure dns.lookup passes no addresses at all (its typings say otherwise).
      const answer = (err: Error | null, found: LookupAddress[] | undefined) => {
        const addresses = found ?? [];
        dnsDone = performance.now();
        connection.dns = dnsDone - lookupStart;
        connection.address = addresses[0]?.address;
        options.trace?.('dns', { hostname, addresses: addresses.map((a) => a.address), pinned: hostname === pinnedHost, dnsMs: round(connection.dns) });
        if (err) done(err, []);
        else if (lookupOptions.all) done(null, addresses);
        else done(null, addresses[0]?.address ?? '', addresses[0]?.family);
      };
      if (options.resolve !== undefined && hostname === pinnedHost) {
        const pinned = [{ address: options.resolve, family: isIP(options.resolve) }];
        process.nextTick(answer, null, pinned);
      } else {
        dnsLookup(hostname, { family: lookupOptions.family, hints: lookupOptions.hints, all: true }, answer);
      }
    };
    const https = target.protocol === 'https:';
    const port = Number(target.port) || (https ? 443 : 80);
    const servername = target.servername ?? (isIP(target.hostname) ? undefined : target.hostname);
    const socket: Socket = https
      ? tlsConnect({ host: target.hostname, port, servername, ca: state.ca, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], lookup })
      : netConnect({ host: target.hostname, port, lookup });
    state.sockets.add(socket);
    state.connecting.add(socket);
    socket.setNoDelay(true);
    let connectedAt = started;
    let settled = false;
    const settle: buildConnector.Callback = (...args) => {
      settled = true;
      state.connecting.delete(socket);
      callback(...args);
    };
    socket.once('connect', () => {
      connectedAt = performance.now();
      connection.connect = connectedAt - dnsDone;
      connection.address = socket.remoteAddress ?? connection.address;
      options.trace?.('connected', { address: connection.address, port, connectMs: round(connection.connect) });
    });
    socket.once(https ? 'secureConnect' : 'connect', () => {
      connection.readyAt = performance.now();
      if (socket instanceof TLSSocket) {
        connection.tls = connection.readyAt - connectedAt;
        connection.tlsInfo = describeTls(socket);
        options.trace?.('tls', { tlsMs: round(connection.tls), ...connection.tlsInfo });
        if (!socket.authorized && !options.insecureSkipVerify) {
          const code = connection.tlsInfo.verifyError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
          const err = new CertificateError(code, describeVerifyError(code, connection.tlsInfo.certificate, servername ?? target.hostname));
          socket.destroy();
          settle(err, null);
          return;
        }
      }
      state.connections.set(`${target.protocol}//${target.host ?? target.hostname}`, connection);
      settle(null, socket);
    });
    socket.on('error', (err) => {
      if (!settled) settle(err, null);
    });
  };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function floorAll(phases: Phases): Phases {
  const floor = (ms: number) => Math.max(0, Math.floor(ms * 1000) / 1000);
  return { dns: floor(phases.dns), connect: floor(phases.connect), tls: floor(phases.tls), processing: floor(phases.processing), transfer: floor(phases.transfer) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
