import { isIP } from 'node:net';
import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { formatDuration } from '../config/duration.js';
import { readServiceIngress } from '../kube/service-ingress.js';
import { kubeSourceFields, namespaceName, objectName } from '../kube/source.js';
import { canonicalIp } from '../net/dns-answer.js';
import { MAX_IGNORED } from '../net/dns-chain.js';
import { AUTHORITATIVE } from '../net/dns-authority.js';
import { resolveAddresses, type ResolverAnswer } from '../net/dns-resolver.js';
import { DEFAULT_MAX_BODY_BYTES, httpRequest, HttpRequestError } from '../net/http-request.js';
import { expandExpectations } from '../config/release.js';
import { CheckFailure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';
import type { Sample } from '../results/run.js';
import { authority, dnsResolverList, resolverBudget } from './dns.js';
import { resolveAuthoritativeFirst, withConvergence, type IngressResolverAnswer } from './ingress-authority.js';
import { patternProblems } from './http-match.js';
import { certExpirySamples, httpMethod, httpSamples, ipAddress, requestFailure } from './http.js';
import { checkExpectations, checkStatus, expectSchema, walkExpectations } from './http-expect.js';
import { httpUrl, maxBodyBytes, requestHeaders, resolveHeaders, urlOf } from './request-fields.js';
import { judgeIngress, type AddressResult, type Verdict } from './ingress-verdict.js';
import { httpProbeSamples } from './http-probe-samples.js';

/**
 * The runbook's public-DNS gate as one check: resolve the URL's host through the resolvers, and
 * request the URL pinned to each expected ingress address and to each other address public DNS
 * gave (Host and SNI stay the hostname, as `curl --resolve` does), all in parallel. The verdict
 * rules are in ingress-verdict.ts.
 */
export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('ingress'),
    url: httpUrl.refine((url) => isIP(urlOf(url)?.hostname.replace(/^\[|\]$/g, '') ?? '') === 0, { error: 'the URL needs a host name (public DNS resolves it), not an IP address' }),
    ingress: z
      .array(ipAddress)
      .min(1)
      .refine((list) => new Set(list.map((ip) => canonicalIp(ip) ?? ip)).size === list.length, { error: 'ingress addresses must be unique (each is a metric label)' })
      .optional()
      .meta({ description: 'the expected ingress addresses; exclusive with ingressFrom' }),
    ingressFrom: z
      .strictObject({ namespace: namespaceName, service: objectName, ...kubeSourceFields })
      .optional()
      .meta({ description: "take the expected addresses from this Service's status.loadBalancer.ingress; exclusive with ingress" }),
    resolvers: dnsResolverList.default(['system']),
    authority: authority.optional(),
    method: httpMethod.default('GET'),
    headers: requestHeaders,
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
    insecureSkipVerify: z.boolean().default(false),
    maxBodyBytes: maxBodyBytes(DEFAULT_MAX_BODY_BYTES),
    expect: expectSchema.prefault({}),
  })
  .superRefine((spec, ctx) => {
    if (spec.ingress === undefined && spec.ingressFrom === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ingress'], message: 'give the expected addresses: ingress (a list of IPs) or ingressFrom (a Service)' });
    }
    if (spec.ingress !== undefined && spec.ingressFrom !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['ingressFrom'], message: 'give either ingress or ingressFrom, not both' });
    }
    if (spec.authority !== undefined && !spec.resolvers.includes(AUTHORITATIVE)) {
      ctx.addIssue({ code: 'custom', path: ['authority'], message: `only applies with ${AUTHORITATIVE} among the resolvers` });
    }
    if (spec.expect.certMinDaysValid !== undefined && !spec.url.startsWith('https:')) {
      ctx.addIssue({ code: 'custom', path: ['expect', 'certMinDaysValid'], message: 'needs an https:// url' });
    }
  });
export type IngressSpec = z.infer<typeof schema>;

export interface IngressObservations {
  url: string;
  host: string;
  verdict: Verdict;
  /** The one-sentence diagnosis, also when healthy. */
  diagnosis: string;
  expected: { addresses: string[]; from: string };
  /** Every resolver answered exactly the expected addresses. */
  dnsMatch: boolean;
  resolvers: IngressResolverAnswer[];
  /** The expected ingress addresses (via = the IP), then the other addresses public DNS gave (via = dns). */
  addresses: AddressResult[];
}

/** `via` series per check at most: ingress addresses from a Service are data, so they are bounded. */
const MAX_VIA_SERIES = 8;
/** Addresses only public DNS gave that are requested; a runaway answer must not fan out without end. */
const MAX_PUBLIC_PROBES = 8;

export const check: CheckType<IngressSpec, IngressObservations> = {
  async run(given, ctx) {
    const spec = { ...given, expect: expandExpectations(given.expect, walkExpectations, ctx.services.release) };
    const started = performance.now();
    // The runner's timeout would drop everything seen so far; our own deadline comes a little earlier.
    const deadline = spec.timeout - Math.min(1000, spec.timeout * 0.1);
    const host = new URL(spec.url).hostname;
    const headers = await resolveHeaders(spec.headers);
    const expected = await expectedAddresses(spec, ctx);
    ctx.trace('expected', { ...expected });
    const probe = (address: string, via: string) => request(spec, headers, address, via, ctx, { at: started + deadline, ms: deadline });
    const [ingress, [resolvers, others]] = await Promise.all([
      Promise.all(expected.addresses.map((address) => probe(address, address))),
      (async () => {
        const answers = await resolveHost(host, expected.addresses, spec, ctx, Math.min(resolverBudget(spec.timeout), deadline / 2));
        for (const answer of answers) ctx.trace('answer', { ...answer });
        const known = new Set(expected.addresses);
        const other = [...new Set(answers.flatMap((a) => a.answers))].filter((a) => !known.has(a)).sort().slice(0, MAX_PUBLIC_PROBES);
        return [answers, await Promise.all(other.map((address) => probe(address, 'dns')))] as const;
      })(),
    ]);
    const expectedStatus = spec.expect.status.join(' or ');
    const judged = judgeIngress({ host, expected: expected.addresses, resolvers, ingress, public: others, expectedStatus });
    const judgement = spec.resolvers.includes(AUTHORITATIVE) ? { ...judged, ...withConvergence(resolvers, judged.failure) } : { ...judged, resolvers };
    ctx.trace('verdict', { verdict: judgement.verdict });
    const observations: IngressObservations = {
      url: spec.url,
      host,
      verdict: judgement.verdict,
      diagnosis: judgement.diagnosis,
      expected,
      dnsMatch: judgement.dnsMatch,
      resolvers: judgement.resolvers,
      addresses: [...ingress, ...others],
    };
    return judgement.failure ? { observations, failure: judgement.failure } : { observations, message: judgement.diagnosis };
  },

  samples(_spec, o) {
    if (!o) return [];
    const ingress = o.addresses.filter((a) => a.via !== 'dns');
    const out: Sample[] = [{ name: 'driftwatch_ingress_verdict', labels: { verdict: o.verdict }, value: 1 }];
    for (const result of ingress.slice(0, MAX_VIA_SERIES)) out.push(...httpSamples(result.via, result));
    out.push(...httpSamples('dns', publicPath(o)), ...certExpirySamples(ingress[0]?.tls));
    return out;
  },

  // The exchange with the first expected ingress address: what blackbox would see pinned there.
  probeSamples: (_spec, o) => httpProbeSamples(o?.addresses.find((a) => a.via !== 'dns')),

  target: {
    get: (spec) => spec.url,
    // The expected ingress stays: "does our ingress serve this URL, and does DNS send clients to it?"
    set: (spec, target) => ({ ...spec, url: target }),
  },
};

/**
 * What a client going through public DNS gets: an address only DNS gave, else (DNS gave
 * expected addresses only) the ingress request to the first of them; undefined when nothing
 * resolved.
 */
function publicPath(o: IngressObservations): AddressResult | undefined {
  const other = o.addresses.find((a) => a.via === 'dns');
  if (other) return other;
  const first = o.resolvers.flatMap((r) => r.answers)[0];
  return first === undefined ? undefined : o.addresses.find((a) => a.address === first);
}

async function expectedAddresses(spec: IngressSpec, ctx: RunContext): Promise<IngressObservations['expected']> {
  if (spec.ingress) return { addresses: [...new Set(spec.ingress.map((ip) => canonicalIp(ip) ?? ip))], from: 'check file' };
  const ref = spec.ingressFrom;
  if (!ref) throw new CheckFailure('config', 'give ingress or ingressFrom');
  const found = await readServiceIngress(
    ctx.services.kube,
    { namespace: ref.namespace, name: ref.service, kubeconfig: ref.kubeconfig, context: ref.context },
    { signal: ctx.signal, trace: ctx.trace.bind(ctx), redact: ctx.redact.bind(ctx) },
  );
  const from = `service ${ref.namespace}/${ref.service}`;
  if (found.ips.length === 0) {
    const only = found.hostnames.length > 0 ? ` (only host names: ${found.hostnames.join(', ')})` : '';
    throw new CheckFailure('assertion', `${from} publishes no load-balancer IP in status.loadBalancer.ingress${only}, so the expected ingress address is unknown`);
  }
  return { addresses: [...new Set(found.ips.map((ip) => canonicalIp(ip) ?? ip))], from };
}

/** A and, when an expected address is IPv6, AAAA, merged per resolver. */
async function resolveHost(host: string, expected: readonly string[], spec: IngressSpec, ctx: RunContext, timeoutMs: number): Promise<IngressResolverAnswer[]> {
  const families = expected.some((ip) => isIP(ip) === 6) ? (['A', 'AAAA'] as const) : (['A'] as const);
  const plain = (resolvers: readonly string[], ms: number) => resolveFamilies(host, resolvers, families, { signal: ctx.signal, timeoutMs: ms });
  if (!spec.resolvers.includes(AUTHORITATIVE)) return plain(spec.resolvers, timeoutMs);
  return resolveAuthoritativeFirst(host, expected, families, spec, { signal: ctx.signal, timeoutMs }, plain, mergeFamilies);
}

async function resolveFamilies(host: string, resolvers: readonly string[], families: readonly ('A' | 'AAAA')[], options: { signal: AbortSignal; timeoutMs: number }): Promise<ResolverAnswer[]> {
  if (!families.includes('AAAA')) return resolveAddresses(host, resolvers, { ...options, record: 'A' });
  const [a, aaaa] = await Promise.all([resolveAddresses(host, resolvers, { ...options, record: 'A' }), resolveAddresses(host, resolvers, { ...options, record: 'AAAA' })]);
  return a.map((v4, i) => {
    const v6 = aaaa[i];
    return v6 ? mergeFamilies(v4, v6) : v4;
  });
}

/** One family answering is an answer; the resolver failed only when both did. */
function mergeFamilies(v4: ResolverAnswer, v6: ResolverAnswer): ResolverAnswer {
  const { error, ...rest } = v4;
  const ignored = [...(v4.ignored ?? []), ...(v6.ignored ?? [])];
  return {
    ...rest,
    rcode: v4.rcode === 'NOERROR' || v6.rcode === 'NOERROR' ? 'NOERROR' : (v4.rcode ?? v6.rcode),
    answers: [...v4.answers, ...v6.answers].sort(),
    ...(ignored.length > 0 && { ignored: ignored.slice(0, MAX_IGNORED), ignoredRrs: (v4.ignoredRrs ?? 0) + (v6.ignoredRrs ?? 0) }),
    durationMs: Math.max(v4.durationMs, v6.durationMs),
    ...(error && v6.error && { error }),
  };
}

/** Never rejects unless the run itself is aborted: a failed request is a result. */
async function request(spec: IngressSpec, headers: Record<string, string>, address: string, via: string, ctx: RunContext, deadline: { at: number; ms: number }): Promise<AddressResult> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.max(1, Math.round(deadline.at - performance.now())))]);
  try {
    const response = await httpRequest({
      url: spec.url,
      method: spec.method,
      headers,
      resolve: address,
      ca: spec.ca,
      insecureSkipVerify: spec.insecureSkipVerify,
      maxBodyBytes: spec.maxBodyBytes,
      signal,
      trace: (step, data) => {
        ctx.trace(step, { via, address, ...data });
      },
    });
    const error = checkStatus(spec.expect.status, response) ?? checkExpectations(spec.expect, response, await patternProblems(spec.expect, response, signal));
    const seen = { via, address, status: response.status, phases: response.phases, totalMs: response.totalMs, ...(response.tls && { tls: response.tls }) };
    return error ? { ...seen, ok: false, error } : { ...seen, ok: true };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof HttpRequestError) {
      const { status, phases, tls } = err.partial;
      return { via, address, ...(status !== undefined && { status }), phases, ...(tls && { tls }), ok: false, error: requestFailure(err) };
    }
    if (signal.aborted) return { via, address, ok: false, error: { reason: 'timeout', message: `no answer within ${formatDuration(Math.round(deadline.ms))}` } };
    throw err;
  }
}
