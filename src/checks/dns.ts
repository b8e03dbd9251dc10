import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { normaliseExpected, RECORD_TYPES } from '../net/dns-answer.js';
import { AUTHORITATIVE } from '../net/dns-authority.js';
import { parseResolver, resolveRecords, type ResolveOptions, type ResolverAnswer } from '../net/dns-resolver.js';
import { addressSamples, probeSample } from './blackbox-series.js';
import { askAuthoritativeFirst } from './dns-authoritative.js';
import { SECTIONS } from './dns-rr-match.js';
import type { CheckType } from './check-type.js';
import type { ProbeSample, Sample } from '../results/run.js';
import { expectSchema, judgeAnswers, type DnsObservations } from './dns-judge.js';

export type { DnsObservations, ResolverReport } from './dns-judge.js';


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

/** A dns check's resolvers: those of resolverList, and `authoritative` for the zone's own name servers. */
export const dnsResolverList = z
  .array(z.union([z.literal(AUTHORITATIVE).meta({ description: "the zone's own name servers, found from its SOA and NS records and asked without recursion" }), resolverEntry]))
  .min(1)
  .refine((list) => new Set(list).size === list.length, { error: 'resolvers must be unique (each is a metric label)' });

export const authority = z
  .strictObject({
    via: resolverEntry.default('system').meta({ description: "the resolver that finds the zone's SOA, NS records and their addresses (default system)" }),
    port: z.number().int().min(1).max(65535).default(53).meta({ description: 'the port the name servers answer on (default 53)' }),
  })
  .meta({ description: 'how the `authoritative` resolver finds and asks the zone\'s name servers' });

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
    resolvers: dnsResolverList.default(['system']),
    authority: authority.optional(),
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
    if (spec.authority !== undefined && !spec.resolvers.includes(AUTHORITATIVE)) {
      ctx.addIssue({ code: 'custom', path: ['authority'], message: `only applies with ${AUTHORITATIVE} among the resolvers` });
    }
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
/**
 * Characters of an answer in its label: a TXT record may hold 64 KB. Answers cut to the same text
 * share one series (a duplicate series would make the exposition invalid).
 */
const MAX_ANSWER_LABEL = 256;

/** Resolves a name through every resolver in parallel and compares each answer with the expectation. */
export const check: CheckType<DnsSpec, DnsObservations> = {
  async run(spec, ctx) {
    // The run's deadline itself: a dns run makes no AbortSignal (results/end-signal.ts).
    const options: ResolveOptions = { signal: ctx.end, timeoutMs: resolverBudget(spec.timeout), transport: spec.transport };
    const trace = (answer: ResolverAnswer) => {
      ctx.trace('answer', { ...answer });
    };
    if (spec.resolvers.includes(AUTHORITATIVE)) return askAuthoritativeFirst(spec, options, trace);
    const answers = await resolveRecords(spec.query, spec.record, spec.resolvers, options);
    for (const answer of answers) trace(answer);
    return judgeAnswers(spec, answers);
  },

  samples(_spec, observations) {
    if (!observations) return [];
    const samples: Sample[] = [{ name: 'driftwatch_dns_drift', value: observations.drift ? 1 : 0 }];
    for (const report of observations.resolvers) {
      samples.push({ name: 'driftwatch_dns_answer_match', labels: { resolver: report.resolver }, value: report.match ? 1 : 0 });
      const labels = new Set(report.answers.slice(0, MAX_ANSWER_SERIES).map((answer) => (answer.length > MAX_ANSWER_LABEL ? `${answer.slice(0, MAX_ANSWER_LABEL)}...` : answer)));
      for (const answer of labels) samples.push({ name: 'driftwatch_dns_answer_info', labels: { resolver: report.resolver, answer }, value: 1 });
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
