import { askAuthoritative, AUTHORITATIVE } from '../net/dns-authority.js';
import type { ResolverAnswer } from '../net/dns-resolver.js';
import type { Failure } from '../results/result.js';
import { convergence } from './dns-convergence.js';
import { list } from './ingress-verdict.js';

/*
 * `authoritative` among an ingress check's resolvers, as in the dns check: the zone's own servers
 * are asked first, the public resolvers only once those answer exactly the expected addresses (an
 * early question would make them cache the old answer or an NXDOMAIN), and a public resolver that
 * answers otherwise is told with the time its cached answer has left.
 */

type Family = 'A' | 'AAAA';

interface Options {
  signal: AbortSignal;
  timeoutMs: number;
}

interface Fields {
  resolvers: readonly string[];
  authority?: { via: string; port: number } | undefined;
}

/** An ingress resolver's answer with the time a disagreeing cache may keep it. */
export type IngressResolverAnswer = ResolverAnswer & { cachedFor?: number; notAsked?: true };

export async function resolveAuthoritativeFirst(
  host: string,
  expected: readonly string[],
  families: readonly Family[],
  spec: Fields,
  options: Options,
  resolve: (resolvers: readonly string[], timeoutMs: number) => Promise<ResolverAnswer[]>,
  merge: (v4: ResolverAnswer, v6: ResolverAnswer) => ResolverAnswer,
): Promise<IngressResolverAnswer[]> {
  const started = performance.now();
  const asked = await Promise.all(families.map(async (family) => askAuthoritative(host, family, { ...options, via: spec.authority?.via ?? 'system', port: spec.authority?.port ?? 53 })));
  const [v4, v6] = asked.map((a) => a.answers);
  const authoritative = (v4 ?? []).map((a) => {
    const other = v6?.find((b) => b.resolver === a.resolver);
    return other === undefined ? a : merge(a, other);
  });
  const at = spec.resolvers.indexOf(AUTHORITATIVE);
  const others = spec.resolvers.filter((resolver) => resolver !== AUTHORITATIVE);
  const wanted = new Set(expected);
  const right = authoritative.every((a) => a.error === undefined && a.answers.length === wanted.size && a.answers.every((x) => wanted.has(x)));
  const answered: IngressResolverAnswer[] = right
    ? await resolve(others, Math.max(1, options.timeoutMs - (performance.now() - started)))
    : others.map((resolver) => ({ resolver, answers: [], via: 'udp', durationMs: 0, notAsked: true, error: { reason: 'dns', message: 'not asked until the authoritative answer is right' } }));
  return [...answered.slice(0, at), ...authoritative, ...answered.slice(at)];
}

/**
 * Each public resolver that answers other than the zone's servers: its cachedFor, and the
 * sentence that says how long it may go on (appended to the check's failure, or the failure).
 */
export function withConvergence(resolvers: readonly IngressResolverAnswer[], failure: Failure | undefined): { resolvers: IngressResolverAnswer[]; failure: Failure | undefined } {
  const found = convergence(resolvers, (a) => (a.answers.length > 0 ? list(a.answers) : a.rcode === 'NOERROR' ? 'NODATA' : (a.rcode ?? 'nothing')));
  const annotated = resolvers.map((r, i) => {
    const cachedFor = found.stale.get(i)?.cachedFor;
    return cachedFor === undefined ? r : { ...r, cachedFor };
  });
  const sentences = [...found.stale.values()].map((s) => s.message);
  if (found.disagreement !== undefined) sentences.push(found.disagreement);
  if (sentences.length === 0) return { resolvers: annotated, failure };
  const message = sentences.join('; ');
  return { resolvers: annotated, failure: failure === undefined ? { reason: 'dns', message } : { ...failure, message: `${failure.message}; ${message}` } };
}
