import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { AUTHORITATIVE_ANSWER, decode, encode } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Sample } from '../src/results/run.js';
import type { DnsObservations } from '../src/checks/dns.js';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { resolveAddresses } from '../src/net/dns-resolver.js';
import { startDnsServer, type DnsServer } from '../examples/dns-server.js';
import { startKnot, type Knot } from './peers/knot.js';
import { parseChecks, runYaml } from './support/checks.js';

let knot: Knot;
let other: Knot;
let demo: DnsServer;
let silent: UdpSocket | undefined;
let silentAddress: string;
let closedAddress: string;
let forgetful: UdpSocket | undefined;
let forgetfulAddress: string;
let forgetfulQueries = 0;
const opened: { close(): Promise<void> }[] = [];

// 12 strings of 150 characters: about 1.9 kB, more than the 1232-byte EDNS UDP payload.
const BIG_TXT = Array.from({ length: 12 }, (_, i) => `big 300 TXT "${String(i).padStart(2, '0')}${'x'.repeat(148)}"`);

beforeAll(async () => {
  const started = await Promise.allSettled([
    startKnot({
      zones: {
        'drift.test': ['hub 300 A 127.0.0.2'],
        'flip.test': ['hub 300 A 127.0.0.2'],
        'same.test': ['hub 300 A 127.0.0.2'],
        'types.test': [
          'hub 300 A 127.0.0.2',
          'hub 300 AAAA 0:0:0:0:0:0:0:1',
          'www 300 CNAME hub',
          '@ 300 TXT "v=spf1 -all"',
          '@ 300 TXT "part one, " "part two"',
          '@ 300 MX 10 mail',
          '@ 300 MX 20 Backup.Types.Test.',
          '_https._tcp 300 SRV 10 5 443 hub',
          '@ 300 CAA 0 issue "letsencrypt.org"',
          '@ 300 CAA 128 iodef "mailto:ops@types.test"',
          'ttl 3600 A 127.0.0.2',
          ...BIG_TXT,
        ],
        'broken.test': null,
      },
    }),
    startKnot({ zones: { 'drift.test': ['hub 300 A 127.0.0.9'], 'same.test': ['hub 300 A 127.0.0.2'] } }),
    startDnsServer({ records: { 'hub.demo.test': ['127.0.0.2'] } }),
  ]);
  for (const peer of started) if (peer.status === 'fulfilled') opened.push(peer.value);
  for (const peer of started) if (peer.status === 'rejected') throw peer.reason;
  [knot, other, demo] = opened as [Knot, Knot, DnsServer];
  // Reads every query and never answers: a resolver that has gone silent.
  const quiet = await bindUdp();
  silent = quiet;
  silentAddress = `127.0.0.1:${quiet.address().port}`;
  // Drops the first query and answers every other: a lossy path that a resend gets through.
  const lossy = await bindUdp();
  forgetful = lossy;
  forgetfulAddress = `127.0.0.1:${lossy.address().port}`;
  lossy.on('message', (message, peer) => {
    forgetfulQueries++;
    if (forgetfulQueries % 2 === 1) return;
    const query = decode(message);
    const questions = query.questions ?? [];
    const answers = questions.map((q) => ({ type: 'A' as const, name: q.name, ttl: 60, data: '127.0.0.2' }));
    lossy.send(encode({ type: 'response', id: query.id ?? 0, flags: AUTHORITATIVE_ANSWER, questions, answers }), peer.port, peer.address);
  });
  // A port nobody listens on: bound, noted, closed.
  const closed = await bindUdp();
  closedAddress = `127.0.0.1:${closed.address().port}`;
  await closeUdp(closed);
});

afterAll(async () => {
  if (silent) await closeUdp(silent);
  if (forgetful) await closeUdp(forgetful);
  await Promise.all(opened.map((peer) => peer.close()));
});

function bindUdp(): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve(socket);
    });
  });
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.close(() => {
      resolve();
    });
  });
}

/** A check file with one dns check named `dns`. */
function dnsYaml(check: Record<string, unknown>): string {
  return stringify({ checks: [{ name: 'dns', type: 'dns', ...check }] });
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;
}

/** The formatted problems of an invalid check file (empty when it is valid). */
function problemsOf(yaml: string, file = 'test.yaml'): string[] {
  try {
    parseChecks(yaml, file);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map(formatProblem);
  }
}

function answerInfo(samples: readonly Sample[]): string[] {
  return samples.filter((s) => s.name === 'driftwatch_dns_answer_info').map((s) => `${s.labels?.resolver ?? ''} ${s.labels?.answer ?? ''}`);
}

describe('dns check against real Knot DNS', () => {
  it('reports drift when the zone changes under a running check, and clears it when it changes back', async () => {
    const exact = dnsYaml({ query: 'hub.flip.test', resolvers: [knot.address], expect: { answers: ['127.0.0.2'] } });
    const before = await runYaml(exact);
    expect(before.result).toMatchObject({ ok: true, message: 'ok' });
    expect(before.result.observations).toMatchObject({ query: 'hub.flip.test', record: 'A', agree: true, drift: false });
    expect(before.result.observations.resolvers).toEqual([expect.objectContaining({ resolver: knot.address, rcode: 'NOERROR', answers: ['127.0.0.2'], ttl: 300, via: 'udp', match: true })]);
    expect(value(before.samples, 'driftwatch_dns_drift')).toBe(0);
    expect(value(before.samples, 'driftwatch_dns_answer_match', { resolver: knot.address })).toBe(1);
    expect(answerInfo(before.samples)).toEqual([`${knot.address} 127.0.0.2`]);

    // The stale host comes back as an extra address: the exact set fails.
    await knot.setZone('flip.test', ['hub 300 A 127.0.0.2', 'hub 300 A 127.0.0.9']);
    const drifted = await runYaml(exact);
    expect(drifted.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: `resolver ${knot.address} answered 127.0.0.2 and 127.0.0.9, expected 127.0.0.2 (unexpected 127.0.0.9)`,
    });
    expect(drifted.result.observations).toMatchObject({ drift: true });
    expect(value(drifted.samples, 'driftwatch_dns_drift')).toBe(1);
    expect(value(drifted.samples, 'driftwatch_dns_answer_match', { resolver: knot.address })).toBe(0);
    expect(answerInfo(drifted.samples)).toEqual([`${knot.address} 127.0.0.2`, `${knot.address} 127.0.0.9`]);

    // excludes names the known stale address; includes only asks for the good one.
    const excludes = await runYaml(dnsYaml({ query: 'hub.flip.test', resolvers: [knot.address], expect: { excludes: ['127.0.0.9'] } }));
    expect(excludes.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${knot.address} answered 127.0.0.2 and 127.0.0.9, expected no 127.0.0.9 (excluded)` });
    const includes = await runYaml(dnsYaml({ query: 'hub.flip.test', resolvers: [knot.address], expect: { includes: ['127.0.0.2'] } }));
    expect(includes.result).toMatchObject({ ok: true });
    const missing = await runYaml(dnsYaml({ query: 'hub.flip.test', resolvers: [knot.address], expect: { includes: ['127.0.0.3'] } }));
    expect(missing.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${knot.address} answered 127.0.0.2 and 127.0.0.9, expected it to include 127.0.0.3` });

    // Only the stale address left: DNS points elsewhere entirely.
    await knot.setZone('flip.test', ['hub 300 A 127.0.0.9']);
    const moved = await runYaml(exact);
    expect(moved.result.message).toBe(`resolver ${knot.address} answered 127.0.0.9, expected 127.0.0.2 (unexpected 127.0.0.9, missing 127.0.0.2)`);

    await knot.setZone('flip.test', ['hub 300 A 127.0.0.2']);
    const after = await runYaml(exact);
    expect(after.result).toMatchObject({ ok: true });
    expect(value(after.samples, 'driftwatch_dns_drift')).toBe(0);
    // The series of the answer that went away is gone from the check's sample set.
    expect(answerInfo(after.samples)).toEqual([`${knot.address} 127.0.0.2`]);
  });

  it('reports resolvers that disagree per resolver, and fails on it with agree: true', async () => {
    const resolvers = [knot.address, other.address];
    const loose = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers }));
    expect(loose.result).toMatchObject({ ok: true });
    expect(loose.result.observations).toMatchObject({
      agree: false,
      drift: false,
      resolvers: [
        { resolver: knot.address, answers: ['127.0.0.2'], match: true },
        { resolver: other.address, answers: ['127.0.0.9'], match: true },
      ],
    });

    const strict = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers, expect: { answers: ['127.0.0.2'], agree: true } }));
    expect(strict.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message:
        `resolver ${other.address} answered 127.0.0.9, expected 127.0.0.2 (unexpected 127.0.0.9, missing 127.0.0.2); ` +
        `resolvers disagree: ${knot.address} answered 127.0.0.2; ${other.address} answered 127.0.0.9`,
    });
    expect(strict.result.observations).toMatchObject({ agree: false, drift: true });
    expect(value(strict.samples, 'driftwatch_dns_answer_match', { resolver: knot.address })).toBe(1);
    expect(value(strict.samples, 'driftwatch_dns_answer_match', { resolver: other.address })).toBe(0);
    expect(value(strict.samples, 'driftwatch_dns_drift')).toBe(1);
    expect(answerInfo(strict.samples)).toEqual([`${knot.address} 127.0.0.2`, `${other.address} 127.0.0.9`]);

    const agreeing = await runYaml(dnsYaml({ query: 'hub.same.test', resolvers, expect: { agree: true } }));
    expect(agreeing.result).toMatchObject({ ok: true, observations: { agree: true } });
  });

  it.each([
    ['NXDOMAIN', 'missing.drift.test', 'A', 'NXDOMAIN, expected A records'],
    ['SERVFAIL (zone without a file)', 'hub.broken.test', 'A', 'SERVFAIL, expected A records'],
    ['REFUSED (outside its zones)', 'hub.elsewhere.test', 'A', 'REFUSED, expected A records'],
    ['NODATA (no record of the type)', 'hub.drift.test', 'TXT', 'NODATA (no TXT records), expected TXT records'],
  ])('fails with reason dns on %s, naming the resolver', async (_case, query, record, said) => {
    const { result, samples } = await runYaml(dnsYaml({ query, record, resolvers: [knot.address] }));
    expect(result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${knot.address} answered ${said}` });
    expect(result.observations.resolvers).toEqual([expect.objectContaining({ match: false, problem: result.message })]);
    expect(value(samples, 'driftwatch_dns_answer_match', { resolver: knot.address })).toBe(0);
    // Without an expected set there is nothing to drift from: a failure, not drift.
    expect(value(samples, 'driftwatch_dns_drift')).toBe(0);
  });

  it('passes when the expected rcode or NODATA is what the resolver answers', async () => {
    const gone = await runYaml(dnsYaml({ query: 'old.drift.test', resolvers: [knot.address], expect: { rcode: 'NXDOMAIN' } }));
    expect(gone.result).toMatchObject({ ok: true, observations: { resolvers: [{ rcode: 'NXDOMAIN', answers: [] }] } });
    const nodata = await runYaml(dnsYaml({ query: 'hub.drift.test', record: 'TXT', resolvers: [knot.address], expect: { answers: [] } }));
    expect(nodata.result).toMatchObject({ ok: true });
    const present = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers: [knot.address], expect: { rcode: 'NXDOMAIN' } }));
    expect(present.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${knot.address} answered 127.0.0.2, expected NXDOMAIN` });
  });

  it('times out a silent resolver before the run timeout and keeps the answers of the others', async () => {
    const { result, samples } = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers: [knot.address, silentAddress], timeout: '1s', expect: { answers: ['127.0.0.2'] } }));
    expect(result).toMatchObject({ ok: false, reason: 'timeout', message: `resolver ${silentAddress}: no answer within 800ms (udp, 2 tries)` });
    expect(result.observations.resolvers).toEqual([
      expect.objectContaining({ resolver: knot.address, answers: ['127.0.0.2'], match: true }),
      expect.objectContaining({ resolver: silentAddress, answers: [], match: false, error: { reason: 'timeout', message: 'no answer within 800ms (udp, 2 tries)' } }),
    ]);
    expect(value(samples, 'driftwatch_dns_answer_match', { resolver: knot.address })).toBe(1);
    expect(value(samples, 'driftwatch_dns_answer_match', { resolver: silentAddress })).toBe(0);
    // No response is not an answer that drifted.
    expect(value(samples, 'driftwatch_dns_drift')).toBe(0);
  });

  it.each(['udp', 'tcp'])('fails with reason connect on a closed port over %s', async (transport) => {
    const { result } = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers: [closedAddress], transport, timeout: '2s' }));
    expect(result).toMatchObject({ ok: false, reason: 'connect', message: `resolver ${closedAddress}: connection refused over ${transport} (ECONNREFUSED)` });
  });

  it('resends a UDP query that got no answer', async () => {
    const before = forgetfulQueries;
    const { result } = await runYaml(dnsYaml({ query: 'hub.lossy.test', resolvers: [forgetfulAddress], timeout: '3s', expect: { answers: ['127.0.0.2'] } }));
    expect(result).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'udp', answers: ['127.0.0.2'], ttl: 60 }] } });
    expect(forgetfulQueries - before).toBe(2);
  });

  it('speaks TCP when asked and falls back to TCP when the UDP answer is truncated', async () => {
    const tcp = await runYaml(dnsYaml({ query: 'hub.drift.test', resolvers: [knot.address], transport: 'tcp', expect: { answers: ['127.0.0.2'] } }));
    expect(tcp.result).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'tcp', rcode: 'NOERROR' }] } });
    const big = await runYaml(dnsYaml({ query: 'big.types.test', record: 'TXT', resolvers: [knot.address] }));
    expect(big.result).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'tcp' }] } });
    const [report] = (big.result.observations as unknown as DnsObservations).resolvers;
    expect(report?.answers).toHaveLength(12);
    expect(report?.answers[0]).toBe(`00${'x'.repeat(148)}`);
  });

  it.each([
    ['AAAA', 'hub.types.test', ['0:0:0:0:0:0:0:1'], ['::1']],
    ['CNAME', 'www.types.test', ['HUB.types.test'], ['hub.types.test.']],
    ['NS', 'types.test', ['ns.types.test.'], ['ns.types.test.']],
    ['MX', 'types.test', ['10 mail.types.test', '20 backup.types.test.'], ['10 mail.types.test.', '20 backup.types.test.']],
    ['SRV', '_https._tcp.types.test', ['10 5 443 hub.types.test'], ['10 5 443 hub.types.test.']],
    ['TXT', 'types.test', ['v=spf1 -all', 'part one, part two'], ['part one, part two', 'v=spf1 -all']],
    ['CAA', 'types.test', ['0 issue letsencrypt.org', '128 iodef "mailto:ops@types.test"'], ['0 issue "letsencrypt.org"', '128 iodef "mailto:ops@types.test"']],
  ])('normalises and matches %s answers', async (record, query, expected, answers) => {
    const { result } = await runYaml(dnsYaml({ query, record, resolvers: [knot.address], expect: { answers: expected } }));
    expect(result).toMatchObject({ ok: true, observations: { record, resolvers: [{ answers, match: true }] } });
  });

  it('quotes TXT answers in messages and checks TTL bounds', async () => {
    const txt = await runYaml(dnsYaml({ query: 'types.test', record: 'TXT', resolvers: [knot.address], expect: { answers: ['v=spf1 -all'] } }));
    expect(txt.result.message).toBe(`resolver ${knot.address} answered "part one, part two" and "v=spf1 -all", expected "v=spf1 -all" (unexpected "part one, part two")`);
    const ttl = await runYaml(dnsYaml({ query: 'ttl.types.test', resolvers: [knot.address], expect: { maxTtl: '5m' } }));
    expect(ttl.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${knot.address} answered 127.0.0.2 with TTL 3600s, expected TTL at most 300s` });
    const fine = await runYaml(dnsYaml({ query: 'ttl.types.test', resolvers: [knot.address], expect: { minTtl: '1h', maxTtl: '1h' } }));
    expect(fine.result).toMatchObject({ ok: true, observations: { resolvers: [{ ttl: 3600 }] } });
  });

  it('exports blackbox-named probe samples for the first resolver', async () => {
    const run = await runYaml(dnsYaml({ query: 'hub.types.test', record: 'A', resolvers: [knot.address, other.address] }));
    const probe = run.probeSamples();
    const probeValue = (name: string) => probe.find((s) => s.name === name)?.value;
    expect(probeValue('probe_dns_query_succeeded')).toBe(1);
    expect(probeValue('probe_dns_answer_rrs')).toBe(1);
    // Knot answers minimally: no authority records; the one additional record, EDNS's OPT, is no RR (blackbox asks without EDNS and counts 0).
    expect(probeValue('probe_dns_authority_rrs')).toBe(0);
    expect(probeValue('probe_dns_additional_rrs')).toBe(0);
    // blackbox's lookup time is resolving the name server's name: an IP here, so none.
    expect(probeValue('probe_dns_lookup_time_seconds')).toBe(0);
    const phases = probe.filter((s) => s.name === 'probe_dns_duration_seconds');
    expect(phases.map((s) => s.labels?.phase)).toEqual(['resolve', 'connect', 'request']);
    expect(phases.find((s) => s.labels?.phase === 'request')?.value).toBeGreaterThan(0);
    expect(probeValue('probe_ip_protocol')).toBe(4);
  });
});

describe('dns check configuration', () => {
  it('defaults to A through the system resolver (getaddrinfo, like getent ahosts)', async () => {
    const [check] = parseChecks(dnsYaml({ query: 'localhost' }));
    expect(check?.spec).toMatchObject({ record: 'A', resolvers: ['system'], transport: 'udp', expect: { includes: [], excludes: [], rcode: 'NOERROR', agree: false } });
    const { result } = await runYaml(dnsYaml({ query: 'localhost', expect: { includes: ['127.0.0.1'] } }));
    expect(result).toMatchObject({ ok: true, observations: { resolvers: [{ resolver: 'system', via: 'getaddrinfo', rcode: 'NOERROR' }] } });
  });

  it('reports every bad key with its position', () => {
    const yaml = [
      'checks:',
      '  - name: bad-dns',
      '    type: dns',
      '    query: hub.example.test',
      '    record: MX',
      '    resolvers: [system, "127.0.0.1:99999", "hub.example.test", system]',
      '    transport: quic',
      '    expect:',
      '      answers: ["mail.example.test"]',
      '      excludes: ["10 old.example.test"]',
      '      rcode: NOPE',
      '      count: 2',
    ].join('\n');
    expect(problemsOf(yaml, 'dns.yaml')).toEqual([
      'dns.yaml:6:25: checks[0].resolvers[1]: not a resolver: "127.0.0.1:99999" (expected system, IP, IP:port or [IPv6]:port)',
      'dns.yaml:6:44: checks[0].resolvers[2]: not a resolver: "hub.example.test" (expected system, IP, IP:port or [IPv6]:port)',
      'dns.yaml:6:16: checks[0].resolvers: resolvers must be unique (each is a metric label)',
      'dns.yaml:7:16: checks[0].transport: expected one of "udp", "tcp" (got "quic")',
      'dns.yaml:11:14: checks[0].expect.rcode: expected one of "NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "NOTAUTH", "YXDOMAIN" (got "NOPE")',
      'dns.yaml:12:7: checks[0].expect.count: unknown key "count" (accepted: answers, includes, excludes, rcode, agree, minTtl, maxTtl, answerRrs, authorityRrs, additionalRrs)',
    ]);
  });

  it('rejects expected answers that cannot be answers of the record type, beside other problems', () => {
    const yaml = dnsYaml({ query: 'hub.example.test', record: 'A', resolvers: ['127.0.0.1:53'], transport: 'quic', expect: { answers: ['hub.example.test', '127.0.0.2'], excludes: ['::1'] } });
    expect(problemsOf(yaml).map((p) => p.replace(/^test\.yaml:\d+:\d+: /, ''))).toEqual([
      'checks[0].transport: expected one of "udp", "tcp" (got "quic")',
      'checks[0].expect.answers[0]: "hub.example.test" is not a valid A answer: expected an IPv4 address',
      'checks[0].expect.excludes[0]: "::1" is not a valid A answer: expected an IPv4 address',
    ]);
  });
});

describe('resolveAddresses (for the ingress check)', () => {
  it('gives each resolver its addresses, and an error for the one that failed', async () => {
    const answers = await resolveAddresses('hub.drift.test', [knot.address, other.address, closedAddress], { signal: AbortSignal.timeout(5000), timeoutMs: 2000 });
    expect(answers).toEqual([
      expect.objectContaining({ resolver: knot.address, rcode: 'NOERROR', answers: ['127.0.0.2'] }),
      expect.objectContaining({ resolver: other.address, rcode: 'NOERROR', answers: ['127.0.0.9'] }),
      expect.objectContaining({ resolver: closedAddress, answers: [] }),
    ]);
    expect(answers[2]?.error?.reason).toBe('connect');
  });
});

describe('demo DNS server (examples/dns-server.ts)', () => {
  it('serves A records from its map over UDP and TCP, and follows set()', async () => {
    const check = (transport: string) => dnsYaml({ query: 'hub.demo.test', resolvers: [demo.address], transport, expect: { answers: ['127.0.0.2'] } });
    expect((await runYaml(check('udp'))).result).toMatchObject({ ok: true });
    expect((await runYaml(check('tcp'))).result).toMatchObject({ ok: true });
    demo.set('hub.demo.test', ['127.0.0.2', '127.0.0.9']);
    const drifted = await runYaml(check('udp'));
    expect(drifted.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${demo.address} answered 127.0.0.2 and 127.0.0.9, expected 127.0.0.2 (unexpected 127.0.0.9)` });
    demo.set('hub.demo.test', []);
    const gone = await runYaml(check('udp'));
    expect(gone.result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${demo.address} answered NXDOMAIN, expected 127.0.0.2` });
    // The name vanished from DNS while an address was expected: that answer drifted.
    expect(value(gone.samples, 'driftwatch_dns_drift')).toBe(1);
    demo.set('hub.demo.test', ['127.0.0.2']);
    expect((await runYaml(check('udp'))).result).toMatchObject({ ok: true });
  });
});
