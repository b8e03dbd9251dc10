import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { duration } from '../config/duration.js';
import { normaliseExpected, RECORD_TYPES, type RecordType } from '../net/dns-answer.js';
import { parseResolver, resolveRecords, type ResolverAnswer } from '../net/dns-resolver.js';
import type { Failure } from '../result.js';
import { addressSamples, probeSample } from '../metrics/blackbox-series.js';
import { rrFields, rrProblems, SECTIONS } from './dns-rr-match.js';
import type { CheckType, Outcome, ProbeSample, Sample } from './check-type.js';

/** Response codes an expectation may name; NODATA is NOERROR without records of the type. */
export const EXPECTED_RCODES = ['NOERROR', 'NODATA', 'NXDOMAIN', 'SERVFAIL', 'REFUSED', 'FORMERR', 'NOTIMP', 'NOTAUTH', 'YXDOMAIN'] as const;

/** A resolver as check files write it; reused by checks that resolve through chosen resolvers. */
export const resolverEntry = z
  .string()
  .meta({ description: 'system (getaddrinfo / the system resolver), IP, IP:port or [IPv6]:port' })
  .refine((text) => parseResolver(text) !== undefined, {
    error: (issue) => `not a resolver: ${JSON.stringify(issue.input)} (expected system, IP, IP:port or [IPv6]:port)`,
  });

export const resolverList = z
  .array(resolverEntry)
  .min(1)
  .refine((list) => new Set(list).size === list.length, { error: 'resolvers must be unique (each is a metric label)' });

const expectSchema = z.strictObject({
  answers: z.array(z.string()).optional().meta({ description: 'the exact set of answers (a stale extra answer fails); [] expects NODATA' }),
  includes: z.array(z.string()).default([]).meta({ description: 'answers that must be present' }),
  excludes: z.array(z.string()).default([]).meta({ description: 'answers that must be absent (known stale addresses)' }),
  rcode: z.enum(EXPECTED_RCODES).default('NOERROR'),
  agree: z.boolean().default(false).meta({ description: 'all resolvers must give the same answer' }),
  minTtl: duration.optional().meta({ description: 'lowest acceptable TTL of the answer' }),
  maxTtl: duration.optional().meta({ description: 'highest acceptable TTL (for example before a migration)' }),
  ...rrFields,
});

export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('dns'),
    query: z
      .string()
      .max(253)
      .regex(/^[^\s]+$/, 'must be a DNS name without spaces')
      .meta({ description: 'the name to resolve' }),
    record: z.enum(RECORD_TYPES).default('A').meta({ description: 'record type to ask for (default A)' }),
    resolvers: resolverList.default(['system']),
    transport: z.enum(['udp', 'tcp']).default('udp').meta({ description: 'for IP resolvers; a truncated UDP answer is always retried over TCP' }),
    expect: expectSchema.prefault({}),
  })
  .superRefine(
    (spec, ctx) => {
      for (const key of ['answers', 'includes', 'excludes'] as const) {
        (spec.expect[key] ?? []).forEach((value, index) => {
          if (normaliseExpected(spec.record, value) === undefined) {
            ctx.addIssue({ code: 'custom', path: ['expect', key, index], message: `${JSON.stringify(value)} is not a valid ${spec.record} answer: ${describeForm(spec.record)}` });
          }
        });
      }
    },
    // Runs despite problems elsewhere in the check (every problem is reported at once), but
    // only reads record and expect, so it needs those two valid.
    { when: (payload) => !payload.issues.some((issue) => issue.path?.[0] === 'record' || issue.path?.[0] === 'expect') },
  )
  .superRefine((spec, ctx) => {
    for (const [key] of SECTIONS) {
      if (spec.expect[key] !== undefined && spec.resolvers.includes('system')) {
        ctx.addIssue({ code: 'custom', path: ['expect', key], message: 'record patterns need IP resolvers: the system resolver gives no records as text' });
      }
    }
  });
export type DnsSpec = z.infer<typeof schema>;

function describeForm(record: DnsSpec['record']): string {
  switch (record) {
    case 'A':
      return 'expected an IPv4 address';
    case 'AAAA':
      return 'expected an IPv6 address';
    case 'CNAME':
    case 'NS':
      return 'expected a host name';
    case 'MX':
      return 'expected "preference exchange", like "10 mail.example.com"';
    case 'SRV':
      return 'expected "priority weight port target", like "10 5 443 hub.example.com"';
    case 'CAA':
      return 'expected "flags tag value", like "0 issue letsencrypt.org"';
    case 'TXT':
      return 'expected text';
    case 'SOA':
      return 'expected "mname rname serial refresh retry expire minimum", like "ns.example.com. hostmaster.example.com. 2024010101 3600 600 86400 60"';
  }
}

/**
 * Each resolver's share of the run: the runner's hard timeout must not cut off the answers of
 * the resolvers that did reply, so a silent one gives up a little earlier.
 */
export function resolverBudget(timeoutMs: number): number {
  return Math.max(timeoutMs * 0.8, timeoutMs - 1000);
}

/** Series of driftwatch_dns_answer_info per resolver at most: answers are labels, so they are bounded. */
const MAX_ANSWER_SERIES = 20;

/** Resolves a name through every resolver in parallel and compares each answer with the expectation. */
export const check: CheckType<DnsSpec, DnsObservations> = {
  async run(spec, ctx) {
    const answers = await resolveRecords(spec.query, spec.record, spec.resolvers, {
      signal: ctx.signal,
      timeoutMs: resolverBudget(spec.timeout),
      transport: spec.transport,
    });
    for (const answer of answers) ctx.trace('answer', { ...answer });
    return judgeAnswers(spec, answers);
  },

  samples(_spec, observations) {
    if (!observations) return [];
    const samples: Sample[] = [{ name: 'driftwatch_dns_drift', value: observations.drift ? 1 : 0 }];
    for (const report of observations.resolvers) {
      samples.push({ name: 'driftwatch_dns_answer_match', labels: { resolver: report.resolver }, value: report.match ? 1 : 0 });
      for (const answer of report.answers.slice(0, MAX_ANSWER_SERIES)) {
        samples.push({ name: 'driftwatch_dns_answer_info', labels: { resolver: report.resolver, answer }, value: 1 });
      }
    }
    return samples;
  },

  probeSamples,

  target: {
    get: (spec) => spec.query,
    set: (spec, target) => ({ ...spec, query: target }),
    // A blackbox dns module's target is the name server; the name is the module's.
    setFromModule: (spec, target) => (parseResolver(target) === undefined ? undefined : { ...spec, resolvers: [target] }),
  },
};

/**
 * The first resolver's exchange in blackbox's dns prober series (prober/dns.go): the name
 * server's address (a system resolver has none), the phases (resolve is the server's name, an IP
 * here), the section counts and, for SOA, the serial. On a run without an answer, the same
 * series at 0, as blackbox gives them.
 */
function probeSamples(spec: DnsSpec, observations: DnsObservations | undefined): ProbeSample[] {
  const first = observations?.resolvers[0];
  const server = parseResolver(first?.resolver ?? spec.resolvers[0] ?? 'system');
  const answered = first !== undefined && first.error === undefined;
  const system = server?.kind !== 'server';
  const samples: ProbeSample[] = system ? [probeSample('probe_dns_lookup_time_seconds', 0)] : addressSamples(server.host, 0);
  const phases = { resolve: 0, connect: first?.connectMs ?? 0, request: first?.requestMs ?? (system && answered ? first.durationMs : 0) };
  for (const [phase, ms] of Object.entries(phases)) samples.push(probeSample('probe_dns_duration_seconds', ms / 1000, { phase }));
  samples.push(
    probeSample('probe_dns_query_succeeded', answered ? 1 : 0),
    probeSample('probe_dns_answer_rrs', answered ? (first.answerRrs ?? first.answers.length) : 0),
    probeSample('probe_dns_authority_rrs', answered ? (first.authorityRrs ?? 0) : 0),
    probeSample('probe_dns_additional_rrs', answered ? (first.additionalRrs ?? 0) : 0),
  );
  const serial = first?.serial ?? (spec.record === 'SOA' && answered ? Number(first.answers[0]?.split(' ')[2]) : undefined);
  if (serial !== undefined && Number.isFinite(serial)) samples.push(probeSample('probe_dns_serial', serial));
  return samples;
}

export interface ResolverReport extends ResolverAnswer {
  /** This resolver's answer meets the expectation. */
  match: boolean;
  /** Why not: names the resolver, what it answered and what was expected. */
  problem?: string;
}

export interface DnsObservations {
  query: string;
  record: RecordType;
  resolvers: ResolverReport[];
  /** Every resolver answered, with the same rcode and the same set. */
  agree: boolean;
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
export function judgeAnswers(spec: DnsSpec, answers: readonly ResolverAnswer[]): Outcome<DnsObservations> {
  const verdicts = answers.map((answer) => judge(spec, answer));
  const keys = answers.map((a) => (a.error ? undefined : `${statusOf(a)} ${a.answers.join('\n')}`));
  const agree = keys.every((key) => key !== undefined && key === keys[0]);
  const failures = verdicts.flatMap((v) => (v.failure ? [v.failure] : []));
  if (spec.expect.agree && !agree) {
    const said = answers.map((a) => `${a.resolver} answered ${describeAnswer(spec.record, a)}`).join('; ');
    failures.push({ reason: 'assertion', message: `resolvers disagree: ${said}` });
  }
  const observations: DnsObservations = {
    query: spec.query,
    record: spec.record,
    resolvers: answers.map((answer, i) => {
      const verdict = verdicts[i];
      return { ...answer, match: verdict?.match ?? false, ...(verdict?.failure && { problem: verdict.failure.message }) };
    }),
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

function expectedStatus(spec: DnsSpec): string {
  return spec.expect.rcode === 'NOERROR' && spec.expect.answers?.length === 0 ? 'NODATA' : spec.expect.rcode;
}

function judge(spec: DnsSpec, answer: ResolverAnswer): Verdict {
  const who = `resolver ${answer.resolver}`;
  if (answer.error) return { match: false, drift: false, failure: { reason: answer.error.reason, message: `${who}: ${answer.error.message}` } };
  const status = statusOf(answer);
  const wanted = expectedStatus(spec);
  if (status !== wanted) {
    const answered = status === 'NOERROR' || status === 'NODATA' || status === 'NXDOMAIN';
    const { answers: exact, includes, excludes } = spec.expect;
    const hasSet = exact !== undefined || includes.length > 0 || excludes.length > 0;
    // An answer with records where none were expected is a wrong answer; a failure code is a DNS problem.
    const reason = status === 'NOERROR' ? 'assertion' : 'dns';
    return { match: false, drift: answered && hasSet, failure: { reason, message: `${who} answered ${describeAnswer(spec.record, answer)}, expected ${describeWanted(spec, wanted)}` } };
  }
  if (status !== 'NOERROR') return { match: true, drift: false };
  const problems = [...contentProblems(spec, answer.answers), ...(answer.sections ? rrProblems(spec.expect, answer.sections) : [])];
  const ttl = ttlProblem(spec, answer.ttl);
  if (problems.length === 0 && ttl === undefined) return { match: true, drift: false };
  const withTtl = ttl === undefined ? '' : ` with TTL ${answer.ttl ?? '?'}s`;
  const message = `${who} answered ${describeAnswer(spec.record, answer)}${withTtl}, expected ${[...problems, ...(ttl ? [ttl] : [])].join('; ')}`;
  return { match: false, drift: problems.length > 0, failure: { reason: 'assertion', message } };
}

function contentProblems(spec: DnsSpec, actual: readonly string[]): string[] {
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

function ttlProblem(spec: DnsSpec, ttl: number | undefined): string | undefined {
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

function describeWanted(spec: DnsSpec, wanted: string): string {
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
