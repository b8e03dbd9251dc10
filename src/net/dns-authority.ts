import { isIPv6 } from 'node:net';
import { errorCode, reasonForCode } from '../results/classify.js';
import type { EndSignal } from '../results/end-signal.js';
import { fqdn, type RecordType } from './dns-answer.js';
import { queryDns, type Transport } from './dns-query.js';
import { fromWire, resolveRecords, type ResolverAnswer } from './dns-resolver.js';
import { LinkedEnd } from './linked-end.js';

/*
 * Asking a zone's own name servers: walk up from the name to the closest SOA, read the zone's NS
 * set, resolve those names, and ask each address without recursion. Every step goes through one
 * resolver (`via`) and shares one deadline; nothing recurses, so a hostile zone cannot make it
 * loop or grow: at most one SOA query per label, one NS query, two address queries per name
 * server and MAX_NAME_SERVERS exchanges.
 */

/** The word a check file writes among its resolvers for "the zone's authoritative servers". */
export const AUTHORITATIVE = 'authoritative';
/** Name server addresses asked per run; a zone with more is asked through the first (sorted). */
export const MAX_NAME_SERVERS = 8;
/** A DNS name has at most 127 labels: the walk up is bounded by that too. */
const MAX_LABELS = 127;
/** Names and messages of a hostile zone are cut to this length. */
const MAX_SHOWN = 200;

export interface AuthorityOptions {
  /** The caller's end: the run's deadline itself (RunContext.end) or an AbortSignal. */
  signal: EndSignal;
  /** Budget of the whole walk and of the exchanges with the name servers. */
  timeoutMs: number;
  transport?: Transport;
  /** The resolver that finds the zone, its NS set and their addresses (system or IP[:port]). */
  via: string;
  /** The port the name servers answer on (53 but in test setups). */
  port: number;
}

export interface AuthorityAnswers {
  /** The zone whose servers answered; absent when it could not be found. */
  zone?: string;
  /** One answer per name server address, each marked authoritative; one error answer when none could be asked. */
  answers: ResolverAnswer[];
}

interface NameServer {
  name: string;
  host: string;
}

/** Never rejects but for the caller's signal: every problem is an answer with an error. */
export async function askAuthoritative(name: string, record: RecordType, options: AuthorityOptions): Promise<AuthorityAnswers> {
  // Up to 2 * MAX_NAME_SERVERS queries run at once, each listening on the signal: an end of our
  // own, with a plain list of listeners, forwards the caller's (on an AbortSignal Node warns past 10).
  const local = new LinkedEnd(options.signal);
  try {
    return await askZone(name, record, { ...options, signal: local });
  } finally {
    local.dispose();
  }
}

async function askZone(name: string, record: RecordType, options: AuthorityOptions): Promise<AuthorityAnswers> {
  const deadline = performance.now() + options.timeoutMs;
  const left = () => Math.max(1, deadline - performance.now());
  const started = performance.now();
  const fail = (message: string, zone?: string): AuthorityAnswers => ({
    ...(zone !== undefined && { zone }),
    answers: [{ resolver: AUTHORITATIVE, authoritative: true, answers: [], via: options.transport ?? 'udp', durationMs: Math.round(performance.now() - started), error: { reason: 'dns', message: cut(message) } }],
  });
  const ask = async (question: string, type: RecordType) => {
    const [answer] = await resolveRecords(question, type, [options.via], { signal: options.signal, timeoutMs: left(), transport: options.transport ?? 'udp' });
    return answer;
  };
  const zone = await findZone(fqdn(name), ask);
  if (typeof zone !== 'string') return fail(`finding the zone of ${fqdn(name)} through ${options.via}: ${zone.problem}`);
  const ns = await ask(zone, 'NS');
  if (ns === undefined || ns.error !== undefined || ns.answers.length === 0) {
    const why = ns?.error?.message ?? (ns?.rcode === 'NOERROR' ? 'NODATA' : (ns?.rcode ?? 'no answer'));
    return fail(`zone ${zone} has no NS records through ${options.via} (${why})`, zone);
  }
  const names = ns.answers.slice(0, MAX_NAME_SERVERS);
  const found = await Promise.all(names.map(async (server) => addressesOf(server, ask)));
  const servers = found.flatMap((f) => f.servers).slice(0, MAX_NAME_SERVERS);
  if (servers.length === 0) {
    return fail(`none of zone ${zone}'s name servers resolves to an address through ${options.via}: ${found.map((f) => f.problem).join(', ')}`, zone);
  }
  const answers = await Promise.all(servers.map(async (server) => askServer(server, name, record, zone, { ...options, timeoutMs: left() })));
  return { zone, answers };
}

type Ask = (question: string, type: RecordType) => Promise<ResolverAnswer | undefined>;

/** The closest enclosing zone: an SOA at the name, or the SOA a negative answer carries. */
async function findZone(name: string, ask: Ask): Promise<string | { problem: string }> {
  let candidate = name;
  for (let depth = 0; depth <= MAX_LABELS && candidate !== '.'; depth++) {
    const answer = await ask(candidate, 'SOA');
    if (answer === undefined || answer.error !== undefined) return { problem: answer?.error?.message ?? 'no answer' };
    if (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN') return { problem: `${answer.rcode ?? 'no answer'} to ${candidate} SOA` };
    if (answer.rcode === 'NOERROR' && answer.answers.length > 0 && answer.cnames === undefined) return candidate;
    const owner = authoritySoa(answer.sections?.authority ?? [])?.owner;
    if (owner !== undefined && (name === owner || name.endsWith(`.${owner}`) || owner === '.')) return owner;
    candidate = parent(candidate);
  }
  return { problem: 'no SOA record above it' };
}

/** Every address of one name server, or why it has none (`ns.example. (NXDOMAIN)`). */
async function addressesOf(server: string, ask: Ask): Promise<{ servers: NameServer[]; problem: string }> {
  const answers = await Promise.all((['A', 'AAAA'] as const).map(async (type) => ask(server, type)));
  const servers = answers.flatMap((a) => (a?.error === undefined ? (a?.answers ?? []) : [])).map((host) => ({ name: server, host }));
  const why = answers.map((a) => a?.error?.message ?? (a?.rcode === 'NOERROR' ? 'NODATA' : (a?.rcode ?? 'no answer')));
  return { servers, problem: `${cut(server)} (${[...new Set(why)].join(', ')})` };
}

async function askServer(server: NameServer, name: string, record: RecordType, zone: string, options: AuthorityOptions): Promise<ResolverAnswer> {
  const at = isIPv6(server.host) ? `[${server.host}]:${options.port}` : `${server.host}:${options.port}`;
  const resolver = `${AUTHORITATIVE} ${cut(server.name)} (${at})`;
  const transport = options.transport ?? 'udp';
  const started = performance.now();
  const durationMs = () => Math.round((performance.now() - started) * 1000) / 1000;
  try {
    const response = await queryDns({ host: server.host, port: options.port, name, record, transport, timeoutMs: options.timeoutMs, signal: options.signal, recursionDesired: false });
    const answer: ResolverAnswer = { resolver, authoritative: true, ...fromWire(response), durationMs: durationMs() };
    if (response.authoritative || answer.error !== undefined) return answer;
    return { ...answer, error: { reason: 'dns', message: `answered ${response.rcode} without the AA flag: not authoritative for ${zone}` } };
  } catch (err) {
    if (options.signal.aborted) throw err;
    const message = err instanceof Error ? err.message : String(err);
    return { resolver, authoritative: true, answers: [], via: transport, durationMs: durationMs(), error: { reason: reasonForCode(errorCode(err)), message: cut(message) } };
  }
}

/** The SOA of an authority section (miekg text lines, see formatRrLine): its owner, TTL and minimum. */
export function authoritySoa(lines: readonly string[]): { owner: string; ttl: number; minimum: number } | undefined {
  for (const line of lines) {
    const [owner, ttl, , type, data] = line.split('\t');
    if (type !== 'SOA' || owner === undefined || ttl === undefined || data === undefined) continue;
    const minimum = Number(data.split(' ').at(-1));
    if (!Number.isFinite(minimum) || !Number.isFinite(Number(ttl))) continue;
    return { owner: fqdn(owner), ttl: Number(ttl), minimum };
  }
  return undefined;
}

/**
 * How long a resolver may cache a negative answer (RFC 2308 section 5): the lesser of the TTL of
 * the SOA in the authority section and its minimum field. A cache counts the SOA's TTL down, so
 * from a caching resolver this is the time left.
 */
export function negativeTtl(lines: readonly string[]): number | undefined {
  const soa = authoritySoa(lines);
  return soa === undefined ? undefined : Math.min(soa.ttl, soa.minimum);
}

function parent(name: string): string {
  const dot = name.indexOf('.');
  const rest = name.slice(dot + 1);
  return rest === '' ? '.' : rest;
}

function cut(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}
