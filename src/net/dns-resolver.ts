import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { errorCode, reasonForCode } from '../classify.js';
import type { Reason } from '../result.js';
import { formatCaa, formatMx, formatSoa, formatSrv, fqdn, type RecordType } from './dns-answer.js';
import { DnsError, queryDns, type Transport, type WireResponse } from './dns-query.js';

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
  /** How the answer came: udp, tcp (also after a truncated UDP answer), getaddrinfo or system. */
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
  signal: AbortSignal;
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
  try {
    if (target.kind === 'system') return { resolver, ...(await resolveSystem(name, record, options)), durationMs: elapsed() };
    const response = await queryDns({ host: target.host, port: target.port, name, record, transport, timeoutMs: options.timeoutMs, signal: options.signal });
    return { resolver, ...fromWire(response), durationMs: elapsed() };
  } catch (err) {
    if (options.signal.aborted) throw err;
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    const via = target.kind === 'system' ? systemVia(record) : transport;
    return { resolver, answers: [], via, durationMs: elapsed(), error: { reason: reasonForCode(code), message } };
  }
}

/** A wire response as the resolver's answer; a CNAME chain without an end is no answer at all. */
function fromWire(response: WireResponse): Omit<ResolverAnswer, 'resolver' | 'durationMs'> {
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

function systemVia(record: RecordType): 'getaddrinfo' | 'system' {
  return record === 'A' || record === 'AAAA' ? 'getaddrinfo' : 'system';
}

type SystemAnswer = Pick<ResolverAnswer, 'rcode' | 'answers' | 'ttl' | 'via'>;

/** Node's DNS error codes that are really an rcode (or NODATA), not a failure to get an answer. */
const RCODE_OF_CODE: Record<string, string> = { ENOTFOUND: 'NXDOMAIN', ENODATA: 'NOERROR', ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', EFORMERR: 'FORMERR', ENOTIMP: 'NOTIMP' };

async function resolveSystem(name: string, record: RecordType, options: ResolveOptions): Promise<SystemAnswer> {
  const via = systemVia(record);
  try {
    const values = await withDeadline(systemRecords(name, record, options), options);
    return { rcode: 'NOERROR', answers: [...new Set(values)].sort(), via };
  } catch (err) {
    const code = errorCode(err);
    // getaddrinfo says ENOTFOUND for both NXDOMAIN and NODATA; it is reported as NXDOMAIN.
    const rcode = code === undefined ? undefined : RCODE_OF_CODE[code];
    if (rcode === undefined) throw err;
    return { rcode, answers: [], via };
  }
}

async function systemRecords(name: string, record: RecordType, options: ResolveOptions): Promise<string[]> {
  if (record === 'A' || record === 'AAAA') {
    // getaddrinfo, like `getent ahosts`: /etc/hosts, nsswitch and the system resolver.
    const found = await lookup(name, { all: true, family: record === 'A' ? 4 : 6 });
    return found.map((entry) => entry.address);
  }
  // Node 20's c-ares spends about 2x timeout per try: two tries fit the budget.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(options.timeoutMs / 4)), tries: 2 });
  const cancel = () => {
    resolver.cancel();
  };
  options.signal.addEventListener('abort', cancel, { once: true });
  try {
    switch (record) {
      case 'CNAME':
        return (await resolver.resolveCname(name)).map(fqdn);
      case 'NS':
        return (await resolver.resolveNs(name)).map(fqdn);
      case 'MX':
        return (await resolver.resolveMx(name)).map((mx) => formatMx(mx.priority, mx.exchange));
      case 'SRV':
        return (await resolver.resolveSrv(name)).map((srv) => formatSrv(srv.priority, srv.weight, srv.port, srv.name));
      case 'TXT':
        return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
      case 'SOA': {
        const soa = await resolver.resolveSoa(name);
        return [formatSoa(soa.nsname, soa.hostmaster, [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minttl])];
      }
      case 'CAA':
        return (await resolver.resolveCaa(name)).flatMap((caa) => {
          const [tag, value] = Object.entries(caa).find(([key]) => key !== 'critical') ?? [];
          return typeof tag === 'string' && typeof value === 'string' ? [formatCaa(caa.critical, tag, value)] : [];
        });
    }
  } finally {
    options.signal.removeEventListener('abort', cancel);
    resolver.cancel();
  }
}

/** getaddrinfo cannot be cancelled: stop waiting for it at the deadline instead. */
async function withDeadline<T>(work: Promise<T>, options: ResolveOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new DnsError('ETIMEOUT', `no answer within ${Math.round(options.timeoutMs)}ms`));
      }, options.timeoutMs);
      onAbort = () => {
        reject(options.signal.reason instanceof Error ? options.signal.reason : new DnsError('ETIMEOUT', 'query aborted'));
      };
      if (options.signal.aborted) onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal.removeEventListener('abort', onAbort);
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
