import { describeIgnored } from '../net/dns-chain.js';
import type { ResolverAnswer } from '../net/dns-resolver.js';
import type { Phases, TlsInfo } from '../net/http-request.js';
import type { Failure } from '../results/result.js';

/**
 * The ingress check's verdict and its one-sentence diagnosis, from what a run saw. Pure: no I/O,
 * so every rule is testable from data. The rules, in this order (the first that holds wins):
 *
 * 1. `both-failing`: an expected ingress address fails, DNS does not answer exactly the expected
 *    set, and the public path fails on its own (a resolver gives no address, or an address only
 *    public DNS gives fails).
 * 2. `cert-mismatch`: TLS fails on a request pinned to an expected ingress address (the
 *    certificate does not cover the host, is expired or untrusted).
 * 3. `stale-host`: every resolver answers exactly the expected addresses, some of them meet the
 *    expectations and the others answer HTTP but fail them: the name publishes a host that
 *    serves a different (older) surface than its peers.
 * 4. `ingress-down`: an expected ingress address fails (connect, timeout, status, assertion).
 * 5. `dns-drift`: the ingress meets the expectations, but some resolver answers other addresses,
 *    extra ones, fewer ones or none: the record is wrong, whatever the other host answers (the
 *    runbook incident: the ingress 401 as expected, the stale address 404).
 * 6. `healthy`: every resolver answers exactly the expected addresses and each meets the
 *    expectations.
 */
export const VERDICTS = ['healthy', 'dns-drift', 'stale-host', 'ingress-down', 'cert-mismatch', 'both-failing'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One request of the run: pinned to an expected ingress address, or to an address only public DNS gave. */
export interface AddressResult {
  /** The `via` label: the pinned IP for an expected ingress address, `dns` for an address public DNS gave. */
  via: string;
  address: string;
  status?: number;
  phases?: Phases;
  totalMs?: number;
  tls?: TlsInfo;
  ok: boolean;
  error?: Failure;
}

export interface VerdictInput {
  host: string;
  expected: readonly string[];
  resolvers: readonly ResolverAnswer[];
  /** One per expected address, in the order of `expected`. */
  ingress: readonly AddressResult[];
  /** One per address public DNS gave that is not expected. */
  public: readonly AddressResult[];
  /** The status expectation as words ("401", "2xx or 3xx"). */
  expectedStatus: string;
}

export interface Judgement {
  verdict: Verdict;
  diagnosis: string;
  /** Every resolver answered exactly the expected addresses. */
  dnsMatch: boolean;
  /** Absent only when healthy. */
  failure?: Failure;
}

type Kind = 'pass' | 'answered' | 'tls' | 'unreachable';

function kindOf(result: AddressResult): Kind {
  if (result.ok) return 'pass';
  const reason = result.error?.reason;
  if (reason === 'tls') return 'tls';
  if (result.status !== undefined && (reason === 'status' || reason === 'assertion')) return 'answered';
  return 'unreachable';
}

/** A resolver that gave no address at all (error, NXDOMAIN, SERVFAIL, NODATA). */
function unresolved(answer: ResolverAnswer): boolean {
  return answer.error !== undefined || answer.rcode !== 'NOERROR' || answer.answers.length === 0;
}

export function judgeIngress(input: VerdictInput): Judgement {
  const { expected, resolvers, ingress } = input;
  const dnsMatch = resolvers.every((r) => !unresolved(r) && sameSet(r.answers, expected));
  const ingressFailing = ingress.filter((r) => !r.ok);
  const publicFails = resolvers.some(unresolved) || input.public.some((r) => !r.ok);
  const firstFailure = ingressFailing[0]?.error;
  const text = describe(input, dnsMatch);
  let verdict: Verdict;
  let failure: Failure | undefined;
  if (firstFailure && !dnsMatch && publicFails) {
    verdict = 'both-failing';
    failure = { reason: firstFailure.reason, message: `Both failing: ${text.ingress}; ${text.resolution}${text.public}` };
  } else if (ingressFailing.some((r) => kindOf(r) === 'tls')) {
    verdict = 'cert-mismatch';
    failure = { reason: 'tls', message: `Certificate mismatch: ${text.ingress}; ${text.resolution}${text.public}` };
  } else if (firstFailure && dnsMatch && ingressFailing.length < ingress.length && ingressFailing.every((r) => kindOf(r) === 'answered')) {
    verdict = 'stale-host';
    failure = { reason: 'dns', message: `Stale host: ${text.resolution}; ${text.ingress}` };
  } else if (firstFailure) {
    verdict = 'ingress-down';
    failure = { reason: firstFailure.reason, message: `Ingress down: ${text.ingress}; ${text.resolution}${text.public}` };
  } else if (!dnsMatch) {
    verdict = 'dns-drift';
    failure = { reason: 'dns', message: `DNS drift: ${text.resolution}; ${text.ingress}${text.public}` };
  } else {
    return { verdict: 'healthy', dnsMatch, diagnosis: `Healthy: ${text.resolution}; ${text.ingress}` };
  }
  return { verdict, dnsMatch, diagnosis: failure.message, failure };
}

interface Parts {
  /** "hub.example resolves to 192.0.2.7 (expected 203.0.113.10)". */
  resolution: string;
  /** "the ingress answers 401 as expected". */
  ingress: string;
  /** ", the public address answers 404", or "" when no address only public DNS gave was requested. */
  public: string;
}

function describe(input: VerdictInput, dnsMatch: boolean): Parts {
  const resolution = describeResolution(input.host, input.resolvers) + (dnsMatch ? ' as expected' : ` (expected ${list(input.expected)})`);
  const [single] = input.ingress;
  const ingress =
    input.ingress.length === 1 && single?.ok
      ? `the ingress ${phrase(single, input.expectedStatus)}`
      : input.ingress.map((r, i) => `${i === 0 ? 'the ingress ' : ''}${r.address} ${phrase(r, input.expectedStatus)}`).join(', ');
  // The address needs no name when it is all that public DNS answered (the incident's shape).
  const resolved = new Set(input.resolvers.flatMap((r) => r.answers));
  const [only] = input.public;
  const unnamed = input.public.length === 1 && only !== undefined && resolved.size === 1 && resolved.has(only.address);
  const pub = input.public.map((r) => `the public address ${unnamed ? '' : `${r.address} `}${phrase(r)}`);
  return { resolution, ingress, public: pub.map((p) => `, ${p}`).join('') };
}

/** What happened at one address; the expected status is named only where it helps (the ingress). */
function phrase(result: AddressResult, expectedStatus?: string): string {
  const message = result.error?.message ?? '';
  switch (kindOf(result)) {
    case 'pass':
      return `answers ${result.status ?? '?'} as expected`;
    case 'answered':
      if (result.error?.reason === 'assertion') return `answers ${result.status ?? '?'}, but ${message}`;
      return expectedStatus === undefined ? `answers ${result.status ?? '?'}` : `answers ${result.status ?? '?'} (expected ${expectedStatus})`;
    case 'tls':
      return `fails TLS: ${message}`;
    case 'unreachable':
      return result.error?.reason === 'timeout' ? `does not answer: ${message}` : `is unreachable: ${message}`;
  }
}

/** "h resolves to a and b", or per resolver when they disagree: "h resolves to a through system, nothing through 10.0.0.2:53 (SERVFAIL)". */
function describeResolution(host: string, resolvers: readonly ResolverAnswer[]): string {
  const groups = new Map<string, string[]>();
  for (const r of resolvers) {
    const key = unresolved(r) ? `nothing (${whyNothing(r)})` : list(r.answers);
    groups.set(key, [...(groups.get(key) ?? []), r.resolver]);
  }
  const entries = [...groups];
  const [first] = entries;
  if (entries.length === 1 && first) {
    return first[0].startsWith('nothing (') ? `${host} does not resolve ${first[0].slice('nothing '.length)}` : `${host} resolves to ${first[0]}`;
  }
  const parts = entries.map(([key, names]) => {
    const through = `through ${list(names)}`;
    return key.startsWith('nothing (') ? `nothing ${through} ${key.slice('nothing '.length)}` : `${key} ${through}`;
  });
  return `${host} resolves to ${parts.join(', ')}`;
}

function whyNothing(answer: ResolverAnswer): string {
  if (answer.error) return answer.error.message;
  if (answer.rcode === 'NOERROR' && answer.ignored?.length) return `only records for other names: ${describeIgnored(answer.ignored, answer.ignoredRrs ?? answer.ignored.length)}`;
  if (answer.rcode === 'NOERROR') return 'NODATA';
  return answer.rcode ?? 'no response';
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/** "a", "a and b", "a, b and c". */
export function list(values: readonly string[]): string {
  const shown = [...values];
  const last = shown.pop();
  if (last === undefined) return 'nothing';
  return shown.length === 0 ? last : `${shown.join(', ')} and ${last}`;
}
