import { askAuthoritative, AUTHORITATIVE } from '../net/dns-authority.js';
import { resolveRecords, type ResolveOptions, type ResolverAnswer } from '../net/dns-resolver.js';
import type { Outcome } from './check-type.js';
import { judgeAnswers, type DnsObservations, type Judged } from './dns-judge.js';

/*
 * A dns check with `authoritative` among its resolvers asks the zone's own servers first, and the
 * other resolvers only once the authoritative answer is right: a caching resolver asked about a
 * name the zone does not serve yet would cache that NXDOMAIN for the zone's negative TTL (RFC
 * 2308), and go on answering it after the record appears. So `run --wait` never plants one.
 */

interface Ordered extends Judged {
  resolvers: readonly string[];
  authority?: { via: string; port: number } | undefined;
}

export async function askAuthoritativeFirst(spec: Ordered, options: ResolveOptions, trace: (answer: ResolverAnswer) => void): Promise<Outcome<DnsObservations>> {
  const started = performance.now();
  const authority = await askAuthoritative(spec.query, spec.record, { ...options, via: spec.authority?.via ?? 'system', port: spec.authority?.port ?? 53 });
  for (const answer of authority.answers) trace(answer);
  const at = spec.resolvers.indexOf(AUTHORITATIVE);
  const others = spec.resolvers.filter((resolver) => resolver !== AUTHORITATIVE);
  const first = judgeAnswers(spec, authority.answers, authority.zone);
  if (first.failure !== undefined && others.length > 0) {
    const skipped = others.map((resolver) => ({ resolver, answers: [], via: options.transport ?? 'udp', durationMs: 0, match: false, notAsked: true as const }));
    const { observations } = first;
    return {
      observations: { ...observations, resolvers: [...skipped.slice(0, at), ...observations.resolvers, ...skipped.slice(at)] },
      failure: { ...first.failure, message: `${first.failure.message}; not asking ${others.join(', ')} until the authoritative answer is right` },
    };
  }
  const timeoutMs = Math.max(1, options.timeoutMs - (performance.now() - started));
  const answered = await resolveRecords(spec.query, spec.record, others, { ...options, timeoutMs });
  for (const answer of answered) trace(answer);
  // The zone's servers stand where the check file wrote `authoritative`.
  return judgeAnswers(spec, [...answered.slice(0, at), ...authority.answers, ...answered.slice(at)], authority.zone);
}
