import { negativeTtl } from '../net/dns-authority.js';
import type { ResolverAnswer } from '../net/dns-resolver.js';

/*
 * With `authoritative` among a dns check's resolvers, the zone's own servers give the answer the
 * others converge to: a caching resolver that answers another set holds its cached answer at
 * most for the TTL left on it (for a negative answer, the TTL of the SOA it carries, RFC 2308),
 * and the message says so.
 */

/** RFC 2181 section 8: a TTL with the top bit set counts as 0. */
const MAX_TTL = 2 ** 31 - 1;

export interface Convergence {
  /** Per answer index: the sentence that replaces a non-authoritative resolver's verdict, and how long it may keep its answer. */
  stale: Map<number, { message: string; cachedFor?: number }>;
  /** Per answer index: the negative-caching TTL of a negative answer. */
  negative: Map<number, number>;
  /** The authoritative servers answered differently (a secondary behind its primary). */
  disagreement?: string;
}

/** `describe` says an answer as the check's messages do ("127.0.0.2", "NXDOMAIN"). */
export function convergence(answers: readonly ResolverAnswer[], describe: (answer: ResolverAnswer) => string): Convergence {
  const negative = new Map<number, number>();
  answers.forEach((answer, i) => {
    const ttl = isNegative(answer) ? negativeTtl(answer.sections?.authority ?? []) : undefined;
    if (ttl !== undefined) negative.set(i, clamp(ttl));
  });
  const stale = new Map<number, { message: string; cachedFor?: number }>();
  const authoritative = answers.filter((a) => a.authoritative === true && a.error === undefined);
  const keys = new Set(authoritative.map(keyOf));
  const [reference] = authoritative;
  if (reference === undefined) return { stale, negative };
  if (keys.size > 1) {
    const said = authoritative.map((a) => `${a.resolver} answers ${describe(a)}`).join('; ');
    return { stale, negative, disagreement: `the authoritative servers disagree: ${said}` };
  }
  const right = describe(reference);
  answers.forEach((answer, i) => {
    if (answer.authoritative === true || answer.error !== undefined || keyOf(answer) === keyOf(reference)) return;
    const cachedFor = isNegative(answer) ? negative.get(i) : answer.ttl === undefined ? undefined : clamp(answer.ttl);
    const held = cachedFor === undefined ? 'for as long as it caches it (no TTL given)' : `cached for at most ${cachedFor} s more`;
    stale.set(i, { message: `${answer.resolver} still answers ${describe(answer)}, ${held}; the authoritative servers answer ${right}`, ...(cachedFor !== undefined && { cachedFor }) });
  });
  return { stale, negative };
}

function isNegative(answer: ResolverAnswer): boolean {
  return answer.error === undefined && (answer.rcode === 'NXDOMAIN' || (answer.rcode === 'NOERROR' && answer.answers.length === 0));
}

function keyOf(answer: ResolverAnswer): string {
  const status = answer.rcode === 'NOERROR' && answer.answers.length === 0 ? 'NODATA' : (answer.rcode ?? '');
  return `${status} ${answer.answers.join('\n')}`;
}

function clamp(ttl: number): number {
  return ttl > MAX_TTL ? 0 : ttl;
}
