import { isIP } from 'node:net';
import { errorCode, reasonForCode } from '../results/classify.js';
import type { EndSignal } from '../results/end-signal.js';
import type { Reason } from '../results/result.js';
import type { RecordType } from './dns-answer.js';
import { DnsError, queryDns, type Transport, type WireResponse } from './dns-query.js';
import { lookupSystem, systemServers } from './dns-system.js';

/**
 * Where a query goes: `system` (what the host's applications see: getaddrinfo for A/AAAA, the
 * system's name servers for other types) or a name server at IP:port.
 */
export type ResolverTarget = { kind: 'system' } | { kind: 'server'; host: string; port: number };

/** Parses `system`, `IP`, `IP:port`, `[IPv6]:port` (a bare IPv6 address uses port 53). */
export function parseResolver(text: string): ResolverTarget | undefined {
  if (text === 'system') return { kind: 'system' };
  if (isIP(text) !== 0) return { kind: 'server', host: text, port: 53 };
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (isIP(match[1]) === 0 || port < 1 || port > 65535) return undefined;
  return { kind: 'server', host: match[1], port };
}

/** What one resolver said about one question. */
export interface ResolverAnswer {
  /** The resolver as written in the check file. */
  resolver: string;
  /** One of the zone's own name servers, asked without recursion (the `authoritative` resolver). */
  authoritative?: true;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED...; absent when no response came. */
  rcode?: string;
  /** Normalised records of the queried type on the question's CNAME chain, sorted and unique. */
  answers: string[];
  /** The CNAME targets followed from the question's name to its records. */
  cnames?: string[];
  /** Answer records for other names, set aside as `owner. TYPE data` (the first few); ignoredRrs counts them all. */
  ignored?: string[];
  ignoredRrs?: number;
  /** Lowest TTL of the answer records, in seconds; absent when unknown (getaddrinfo). */
  ttl?: number;
  /** How the answer came: udp, tcp (also after a truncated UDP answer), getaddrinfo or system (resolv.conf's name servers). */
  via: Transport | 'getaddrinfo' | 'system';
  /** The section counts as on the wire (records for other names too), as blackbox counts them. */
  answerRrs?: number;
  authorityRrs?: number;
  /** Without the EDNS OPT pseudo-record. */
  additionalRrs?: number;
  /** A wire query's phases (blackbox's probe_dns_duration_seconds connect and request). */
  connectMs?: number;
  requestMs?: number;
  /** The zone serial of an SOA answer. */
  serial?: number;
  /** Each whole section's records as text (miekg/dns form), for the RR regex expectations, as blackbox matches them. */
  sections?: { answer: string[]; authority: string[]; additional: string[] };
  durationMs: number;
  /** Why no usable response came (timeout, refused connection, malformed answer, an answer to another question, a CNAME chain without end). */
  error?: { reason: Reason; message: string };
}

export interface ResolveOptions {
  /** The caller's end: the run's deadline itself (RunContext.end), which makes no AbortSignal, or an AbortSignal. */
  signal: EndSignal;
  /** Budget of each resolver's query, retries included. */
  timeoutMs: number;
  transport?: Transport;
}

/** Asks every resolver in parallel; one failing resolver never loses the others' answers. */
export function resolveRecords(name: string, record: RecordType, resolvers: readonly string[], options: ResolveOptions): Promise<ResolverAnswer[]> {
  return Promise.all(resolvers.map((resolver) => resolveOne(name, record, resolver, options)));
}

/**
 * The addresses each resolver gives for a host (A by default), for checks that dial what the
 * public sees (ingress). Never rejects; a resolver that fails has `error` or a non-NOERROR rcode.
 */
export function resolveAddresses(name: string, resolvers: readonly string[], options: ResolveOptions & { record?: 'A' | 'AAAA' }): Promise<ResolverAnswer[]> {
  return resolveRecords(name, options.record ?? 'A', resolvers, options);
}

async function resolveOne(name: string, record: RecordType, resolver: string, options: ResolveOptions): Promise<ResolverAnswer> {
  const started = performance.now();
  const elapsed = () => round(performance.now() - started);
  const target = parseResolver(resolver);
  const transport = options.transport ?? 'udp';
  if (target === undefined) {
    return { resolver, answers: [], via: transport, durationMs: 0, error: { reason: 'config', message: `not a resolver: ${resolver}` } };
  }
  const address = record === 'A' || record === 'AAAA';
  try {
    if (target.kind === 'system' && address) {
      const found = await lookupSystem(name, record === 'A' ? 4 : 6, options);
      return { resolver, rcode: found.rcode, answers: unique(found.addresses), via: 'getaddrinfo', durationMs: elapsed() };
    }
    const system = target.kind === 'system';
    const servers = system ? systemServers().flatMap((text) => parseServer(text) ?? []) : [target];
    const response = await askInTurn(servers, name, record, system ? 'udp' : transport, options, system);
    return { resolver, ...fromWire(response), ...(system && { via: 'system' as const }), durationMs: elapsed() };
  } catch (err) {
    if (options.signal.aborted) throw err;
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    const via = target.kind === 'system' ? (address ? 'getaddrinfo' : 'system') : transport;
    return { resolver, answers: [], via, durationMs: elapsed(), error: { reason: reasonForCode(code), message } };
  }
}

type Server = Extract<ResolverTarget, { kind: 'server' }>;

function parseServer(text: string): Server | undefined {
  const target = parseResolver(text);
  return target?.kind === 'server' ? target : undefined;
}

/** Answers that send a stub resolver on to the next name server. */
const NEXT_SERVER = new Set(['SERVFAIL', 'REFUSED', 'NOTIMP', 'FORMERR']);

/**
 * Asks each name server in turn until one answers other than with a server failure, as stub
 * resolvers do; each gets an equal share of what is left of the budget (one gets all of it).
 * A system name server's failure names it (the check file does not).
 */
async function askInTurn(servers: readonly Server[], name: string, record: RecordType, transport: Transport, options: ResolveOptions, system: boolean): Promise<WireResponse> {
  const deadline = performance.now() + options.timeoutMs;
  // Made only when needed: an Error's stack costs ~2 % of a 100k-check daemon's CPU when made per query.
  let failure: unknown;
  let failed = false;
  let last: WireResponse | undefined;
  for (const [i, server] of servers.entries()) {
    const timeoutMs = Math.max(1, (deadline - performance.now()) / (servers.length - i));
    try {
      const response = await queryDns({ host: server.host, port: server.port, name, record, transport, timeoutMs, signal: options.signal });
      if (!NEXT_SERVER.has(response.rcode)) return response;
      last = response;
    } catch (err) {
      if (options.signal.aborted) throw err;
      failure = system ? named(err, server) : err;
      failed = true;
    }
  }
  if (last) return last;
  if (!failed) throw new DnsError('ECONNREFUSED', 'no name server in /etc/resolv.conf');
  throw failure;
}

function named(err: unknown, server: Server): unknown {
  const at = server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  const code = errorCode(err);
  if (!(err instanceof Error) || code === undefined || err.message.includes(at)) return err;
  return new DnsError(code, `name server ${at}: ${err.message}`);
}

/** A wire response as the resolver's answer; a CNAME chain without an end is no answer at all. */
export function fromWire(response: WireResponse): Omit<ResolverAnswer, 'resolver' | 'durationMs'> {
  const ttls = response.records.map((r) => r.ttl);
  const broken = response.chainProblem !== undefined;
  return {
    rcode: response.rcode,
    answers: broken ? [] : unique(response.records.map((r) => r.value)),
    ...(response.cnames.length > 0 && { cnames: response.cnames }),
    ...(response.ignoredRrs > 0 && { ignored: response.ignored, ignoredRrs: response.ignoredRrs }),
    ...(ttls.length > 0 && !broken && { ttl: Math.min(...ttls) }),
    via: response.transport,
    answerRrs: response.answerRrs,
    authorityRrs: response.authorityRrs,
    additionalRrs: response.additionalRrs,
    connectMs: round(response.connectMs),
    requestMs: round(response.requestMs),
    ...(response.serial !== undefined && { serial: response.serial }),
    sections: response.sections,
    ...(response.chainProblem !== undefined && { error: { reason: 'dns' as const, message: response.chainProblem } }),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
