import { z } from 'zod';
import { duration } from '../config/duration.js';
import { normaliseExpected, type RecordType } from '../net/dns-answer.js';
import { describeIgnored } from '../net/dns-chain.js';
import type { ResolverAnswer } from '../net/dns-resolver.js';
import type { Failure } from '../results/result.js';
import type { Outcome } from './check-type.js';
import { convergence } from './dns-convergence.js';
import { rrFields, rrProblems } from './dns-rr-match.js';

// What a dns check may expect, and how it judges what its resolvers answered: exact sets,
// includes and excludes, rcode, TTL bounds, agreement, and one sentence per resolver that names
// what it answered.

/** Response codes an expectation may name; NODATA is NOERROR without records of the type. */
export const EXPECTED_RCODES = ['NOERROR', 'NODATA', 'NXDOMAIN', 'SERVFAIL', 'REFUSED', 'FORMERR', 'NOTIMP', 'NOTAUTH', 'YXDOMAIN'] as const;

/** A dns check's expect block. */
export const expectSchema = z.strictObject({
  answers: z.array(z.string()).optional().meta({ description: 'the exact set of answers (a stale extra answer fails); [] expects NODATA' }),
  includes: z.array(z.string()).default([]).meta({ description: 'answers that must be present' }),
  excludes: z.array(z.string()).default([]).meta({ description: 'answers that must be absent (known stale addresses)' }),
  rcode: z.enum(EXPECTED_RCODES).default('NOERROR'),
  agree: z.boolean().default(false).meta({ description: 'all resolvers must give the same answer' }),
  minTtl: duration.optional().meta({ description: 'lowest acceptable TTL of the answer' }),
  maxTtl: duration.optional().meta({ description: 'highest acceptable TTL (for example before a migration)' }),
  ...rrFields,
});

/** What judging reads of a dns check (dns.ts's DnsSpec has it, and names this file's types). */
export interface Judged {
  query: string;
  record: RecordType;
  expect: z.output<typeof expectSchema>;
}

export interface ResolverReport extends ResolverAnswer {
  /** This resolver's answer meets the expectation. */
  match: boolean;
  /** Why not: names the resolver, what it answered and what was expected. */
  problem?: string;
  /** With `authoritative`: how long a negative answer may be cached (RFC 2308: the lesser of its SOA's TTL and minimum). */
  negativeTtl?: number;
  /** With `authoritative`: not asked, because the authoritative answer was not right yet. */
  notAsked?: true;
  /** With `authoritative`: seconds this resolver may keep answering other than the authoritative servers (the TTL left on its answer). */
  cachedFor?: number;
}

export interface DnsObservations {
  query: string;
  record: RecordType;
  resolvers: ResolverReport[];
  /** Every resolver answered, with the same rcode and the same set. */
  agree: boolean;
  /** With `authoritative`: the zone whose name servers were asked. */
  zone?: string;
  /**
   * Some resolver answered something other than the expected set (answers, includes, excludes);
   * with agree: true, also when resolvers differ. A resolver that gave no answer is not drift.
   */
  drift: boolean;
}

interface Verdict {
  match: boolean;
  /** The resolver answered, but with something other than the expected set (not a server error). */
  drift: boolean;
  failure?: Failure;
}

/** Compares every resolver's answer with the expectation; the first failing resolver gives the reason. */
export function judgeAnswers(spec: Judged, answers: readonly ResolverAnswer[], zone?: string): Outcome<DnsObservations> {
  const converging = answers.some((a) => a.authoritative === true) ? convergence(answers, (a) => describeAnswer(spec.record, a)) : undefined;
  const verdicts = answers.map((answer, i): Verdict => {
    const stale = converging?.stale.get(i);
    if (stale !== undefined) return { match: false, drift: true, failure: { reason: 'assertion', message: stale.message } };
    const verdict = judge(spec, answer);
    const negative = converging?.negative.get(i);
    if (verdict.failure === undefined || negative === undefined) return verdict;
    return { ...verdict, failure: { ...verdict.failure, message: `${verdict.failure.message} (resolvers may cache it for ${negative} s, the zone's negative TTL)` } };
  });
  const keys = answers.map((a) => (a.error ? undefined : `${statusOf(a)} ${a.answers.join('\n')}`));
  const agree = keys.every((key) => key !== undefined && key === keys[0]);
  const failures = verdicts.flatMap((v) => (v.failure ? [v.failure] : []));
  if (converging?.disagreement !== undefined) failures.push({ reason: 'dns', message: converging.disagreement });
  if (spec.expect.agree && !agree) {
    const said = answers.map((a) => `${a.resolver} answered ${describeAnswer(spec.record, a)}`).join('; ');
    failures.push({ reason: 'assertion', message: `resolvers disagree: ${said}` });
  }
  const observations: DnsObservations = {
    query: spec.query,
    record: spec.record,
    resolvers: answers.map((answer, i) => {
      const verdict = verdicts[i];
      const negativeTtl = converging?.negative.get(i);
      const cachedFor = converging?.stale.get(i)?.cachedFor;
      return {
        ...answer,
        match: verdict?.match ?? false,
        ...(verdict?.failure && { problem: verdict.failure.message }),
        ...(negativeTtl !== undefined && { negativeTtl }),
        ...(cachedFor !== undefined && { cachedFor }),
      };
    }),
    ...(zone !== undefined && { zone }),
    agree,
    drift: verdicts.some((v) => v.drift) || (spec.expect.agree && !agree),
  };
  const first = failures[0];
  if (!first) return { observations };
  return { observations, failure: { reason: first.reason, message: failures.map((f) => f.message).join('; ') } };
}

/** NODATA is a NOERROR answer without records of the asked type. */
function statusOf(answer: ResolverAnswer): string {
  if (answer.rcode === 'NOERROR' && answer.answers.length === 0) return 'NODATA';
  return answer.rcode ?? 'no answer';
}

function expectedStatus(spec: Judged): string {
  return spec.expect.rcode === 'NOERROR' && spec.expect.answers?.length === 0 ? 'NODATA' : spec.expect.rcode;
}

function judge(spec: Judged, answer: ResolverAnswer): Verdict {
  const who = `resolver ${answer.resolver}`;
  if (answer.error) return { match: false, drift: false, failure: { reason: answer.error.reason, message: `${who}: ${answer.error.message}` } };
  const status = statusOf(answer);
  const wanted = expectedStatus(spec);
  // Records for other names are no answer (a stub resolver drops them), and no NODATA either:
  // the resolver or something on the path is answering another question.
  if (status === 'NODATA' && answer.ignored !== undefined && answer.ignored.length > 0) {
    const stray = describeIgnored(answer.ignored, answer.ignoredRrs ?? answer.ignored.length);
    const cnames = answer.cnames ?? [];
    const none = cnames.length > 0 ? `${spec.query} or its CNAME ${cnames.join(' -> ')}` : spec.query;
    return { match: false, drift: hasSet(spec), failure: { reason: 'dns', message: `${who} answered only records for other names (${stray}), none for ${none}` } };
  }
  if (status !== wanted) {
    const answered = status === 'NOERROR' || status === 'NODATA' || status === 'NXDOMAIN';
    // An answer with records where none were expected is a wrong answer; a failure code is a DNS problem.
    const reason = status === 'NOERROR' ? 'assertion' : 'dns';
    return { match: false, drift: answered && hasSet(spec), failure: { reason, message: `${who} answered ${describeAnswer(spec.record, answer)}, expected ${describeWanted(spec, wanted)}` } };
  }
  if (status !== 'NOERROR') return { match: true, drift: false };
  const problems = [...contentProblems(spec, answer.answers), ...(answer.sections ? rrProblems(spec.expect, answer.sections) : [])];
  const ttl = ttlProblem(spec, answer.ttl);
  if (problems.length === 0 && ttl === undefined) return { match: true, drift: false };
  const withTtl = ttl === undefined ? '' : ` with TTL ${answer.ttl ?? '?'}s`;
  const message = `${who} answered ${describeAnswer(spec.record, answer)}${withTtl}, expected ${[...problems, ...(ttl ? [ttl] : [])].join('; ')}`;
  return { match: false, drift: problems.length > 0, failure: { reason: 'assertion', message } };
}

function hasSet(spec: Judged): boolean {
  const { answers, includes, excludes } = spec.expect;
  return answers !== undefined || includes.length > 0 || excludes.length > 0;
}

function contentProblems(spec: Judged, actual: readonly string[]): string[] {
  const normalise = (values: readonly string[]) => [...new Set(values.map((v) => normaliseExpected(spec.record, v) ?? v))];
  const show = (values: readonly string[]) => list(spec.record, values);
  const problems: string[] = [];
  if (spec.expect.answers) {
    const expected = normalise(spec.expect.answers);
    const unexpected = actual.filter((a) => !expected.includes(a));
    const missing = expected.filter((e) => !actual.includes(e));
    const details = [...(unexpected.length > 0 ? [`unexpected ${show(unexpected)}`] : []), ...(missing.length > 0 ? [`missing ${show(missing)}`] : [])];
    if (details.length > 0) problems.push(`${show(expected)} (${details.join(', ')})`);
  }
  const missing = normalise(spec.expect.includes).filter((e) => !actual.includes(e));
  if (missing.length > 0) problems.push(`it to include ${show(missing)}`);
  const stale = normalise(spec.expect.excludes).filter((e) => actual.includes(e));
  if (stale.length > 0) problems.push(`no ${show(stale)} (excluded)`);
  return problems;
}

function ttlProblem(spec: Judged, ttl: number | undefined): string | undefined {
  if (ttl === undefined) return undefined;
  const { minTtl, maxTtl } = spec.expect;
  if (minTtl !== undefined && ttl * 1000 < minTtl) return `TTL at least ${minTtl / 1000}s`;
  if (maxTtl !== undefined && ttl * 1000 > maxTtl) return `TTL at most ${maxTtl / 1000}s`;
  return undefined;
}

function describeAnswer(record: RecordType, answer: ResolverAnswer): string {
  const status = statusOf(answer);
  if (answer.error) return 'nothing (no response)';
  if (status === 'NOERROR') return list(record, answer.answers);
  if (status === 'NODATA') return `NODATA (no ${record} records)`;
  return status;
}

function describeWanted(spec: Judged, wanted: string): string {
  if (wanted === 'NODATA') return `NODATA (no ${spec.record} records)`;
  if (wanted !== 'NOERROR') return wanted;
  const { answers, includes } = spec.expect;
  const normalise = (values: readonly string[]) => values.map((v) => normaliseExpected(spec.record, v) ?? v);
  if (answers) return list(spec.record, normalise(answers));
  if (includes.length > 0) return `${spec.record} records including ${list(spec.record, normalise(includes))}`;
  return `${spec.record} records`;
}

/** "a", "a and b", "a, b and c"; TXT values quoted since they may hold commas and spaces. */
function list(record: RecordType, values: readonly string[]): string {
  const shown = record === 'TXT' ? values.map((v) => JSON.stringify(v)) : [...values];
  const last = shown.pop();
  if (last === undefined) return 'nothing';
  return shown.length === 0 ? last : `${shown.join(', ')} and ${last}`;
}
