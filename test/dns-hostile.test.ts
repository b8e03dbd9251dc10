import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { DnsObservations } from '../src/checks/dns.js';
import type { IngressObservations } from '../src/checks/ingress.js';
import type { Result } from '../src/results/result.js';
import { mintCertificates } from './peers/certs.js';
import { startHostileDns, type HostileDns } from './peers/hostile-dns.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { collect } from './support/cli.js';
import { runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * A resolver that answers other names than the one asked (test/peers/hostile-dns.ts): a reply
 * to stray.hostile.test holding only `evil.attacker.test A 127.0.0.3` gives applications no
 * address (glibc drops it), so the dns check must fail and the ingress check must not dial it.
 */
const peers = new PeerSet();
let dns: HostileDns;
let ingress: HttpsPeer;
let stale: HttpsPeer;
let caPath: string;
const STRAY = 'evil.attacker.test. A 127.0.0.3';

/** A result with the observations of its check type (absent on a failure before any). */
type Checked<O> = Omit<Result, 'observations'> & { observations?: O };

beforeAll(async () => {
  dns = await peers.start(startHostileDns());
  const certs = await peers.start(mintCertificates());
  caPath = certs.caPath;
  const leaf = await certs.mintLeaf({ names: ['stray.hostile.test', 'mixed.hostile.test', 'chain.hostile.test'], notAfter: new Date(Date.now() + 86_400_000), file: 'hostile' });
  // The ingress on 127.0.0.2 answers 401; the attacker's host on 127.0.0.3 (same port) answers 404.
  for (let attempt = 1; ; attempt++) {
    ingress = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: leaf, routes: { '/api': { status: 401 } } }));
    try {
      stale = await peers.start(startHttpsPeer({ host: '127.0.0.3', port: ingress.port, tls: leaf, routes: { '/api': { status: 404 } } }));
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
});

afterAll(async () => {
  await peers.closeAll();
});

async function dnsCheck(query: string, extra: Record<string, unknown> = {}): Promise<{ result: Checked<DnsObservations>; report: DnsObservations['resolvers'][number] | undefined }> {
  const run = await runYaml(stringify({ checks: [{ name: 'dns', type: 'dns', query, resolvers: [dns.address], timeout: '5s', ...extra }] }));
  const result = run.result as unknown as Checked<DnsObservations>;
  return { result, report: result.observations?.resolvers[0] };
}

describe('an answer for another name', () => {
  it.each(['udp', 'tcp'])('fails the check over %s, naming the stray record (no false pass)', async (transport) => {
    const before = dns.queries[transport as 'udp' | 'tcp'];
    const message = `resolver ${dns.address} answered only records for other names (${STRAY}), none for stray.hostile.test`;
    for (const expectation of [{ answers: ['127.0.0.3'] }, { includes: ['127.0.0.3'] }, {}]) {
      const { result, report } = await dnsCheck('stray.hostile.test', { transport, expect: expectation });
      expect(result).toMatchObject({ ok: false, reason: 'dns', message });
      expect(report).toMatchObject({ rcode: 'NOERROR', answers: [], ignored: [STRAY], ignoredRrs: 1, via: transport, match: false, answerRrs: 1 });
    }
    expect(dns.queries[transport as 'udp' | 'tcp'] - before).toBe(3);
  });

  it('fails a TXT check the same way', async () => {
    const { result } = await dnsCheck('stray.hostile.test', { record: 'TXT', expect: { answers: ['evil'] } });
    expect(result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${dns.address} answered only records for other names (evil.attacker.test. TXT evil), none for stray.hostile.test` });
  });

  it('ignores (and reports) a stray record beside the real one: sets and excludes see only the real one', async () => {
    const exact = await dnsCheck('mixed.hostile.test', { expect: { answers: ['127.0.0.2'], excludes: ['127.0.0.3'] } });
    expect(exact.result).toMatchObject({ ok: true });
    expect(exact.report).toMatchObject({ answers: ['127.0.0.2'], ignored: [STRAY], ignoredRrs: 1, answerRrs: 2 });
    // The RR patterns match whole sections, as blackbox_exporter's validate_answer_rrs does.
    const patterns = await dnsCheck('mixed.hostile.test', { expect: { answerRrs: { failIfMatches: ['^evil\\.attacker\\.test\\.'] } } });
    expect(patterns.result).toMatchObject({ ok: false, reason: 'assertion', message: `resolver ${dns.address} answered 127.0.0.2, expected no answer record to match /^evil\\.attacker\\.test\\./ ("evil.attacker.test.\\t60\\tIN\\tA\\t127.0.0.3" does)` });
  });

  it('keeps a few stray records, cut in length, and counts them all', async () => {
    const { result, report } = await dnsCheck('many.hostile.test');
    expect(report?.ignored).toHaveLength(5);
    expect(report?.ignoredRrs).toBe(40);
    for (const text of report?.ignored ?? []) expect(text.length).toBeLessThanOrEqual(200);
    expect(result.message).toMatch(/and 35 more\), none for many\.hostile\.test$/);
    expect(result.message.length).toBeLessThan(1200);
  });
});

describe('CNAME chains from the question', () => {
  it.each(['udp', 'tcp'])('a chain to the right address passes over %s (owner names in any case)', async (transport) => {
    const { result, report } = await dnsCheck('chain.hostile.test', { transport, expect: { answers: ['127.0.0.2'] } });
    expect(result).toMatchObject({ ok: true });
    expect(report).toMatchObject({ answers: ['127.0.0.2'], cnames: ['lb.example.net.'], ttl: 60 });
    expect(report).not.toHaveProperty('ignored');
  });

  it('a DNAME-synthesised answer passes, its DNAME not counted as a stray record', async () => {
    const { result, report } = await dnsCheck('x.dname.hostile.test', { expect: { answers: ['127.0.0.2'] } });
    expect(result).toMatchObject({ ok: true });
    expect(report).not.toHaveProperty('ignored');
  });

  it('a chain that ends in a record for another name fails, naming both', async () => {
    const { result } = await dnsCheck('chaintail.hostile.test', { expect: { answers: ['127.0.0.3'] } });
    expect(result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${dns.address} answered only records for other names (${STRAY}), none for chaintail.hostile.test or its CNAME lb.example.net.` });
  });

  it('follows 8 hops; 9 hops or a loop is a bad answer', async () => {
    expect((await dnsCheck('eight.hostile.test', { expect: { answers: ['127.0.0.2'] } })).result).toMatchObject({ ok: true });
    const nine = await dnsCheck('nine.hostile.test', { expect: { answers: ['127.0.0.2'] } });
    expect(nine.result).toMatchObject({ ok: false, reason: 'dns', message: expect.stringMatching(/^resolver \S+: CNAME chain longer than 8 hops: nine\.hostile\.test\. -> h1\.chain\.example\.net\. .* -> h8\.chain\.example\.net\. -> \.\.\.$/) as unknown });
    expect(nine.report).toMatchObject({ answers: [] });
    const loop = await dnsCheck('loop.hostile.test');
    expect(loop.result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${dns.address}: CNAME loop: loop.hostile.test. -> back.example.net. -> loop.hostile.test.` });
  });
});

describe('the echoed question', () => {
  it.each([
    ['type', '"type.hostile.test. AAAA IN"'],
    ['class', '"class.hostile.test. A CH"'],
    ['name', '"evil.attacker.test. A IN"'],
  ])('of another %s is a bad answer at once, over udp and tcp', async (name, echoed) => {
    for (const transport of ['udp', 'tcp']) {
      const { result } = await dnsCheck(`${name}.hostile.test`, { transport, expect: { answers: ['127.0.0.2'] } });
      const asked = `"${name}.hostile.test. A IN"`;
      expect(result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${dns.address}: ${dns.address} answered the question ${echoed}, asked ${asked} (over ${transport})` });
      // Not left to time out: the answer is refused when it comes.
      expect(result.durationMs).toBeLessThan(2500);
    }
  });

  it('missing is a bad answer; the same name in another case is a match', async () => {
    const none = await dnsCheck('none.hostile.test', { expect: { answers: ['127.0.0.2'] } });
    expect(none.result).toMatchObject({ ok: false, reason: 'dns', message: `resolver ${dns.address}: ${dns.address} answered without echoing the question, asked "none.hostile.test. A IN" (over udp)` });
    expect((await dnsCheck('caseq.hostile.test', { expect: { answers: ['127.0.0.2'] } })).result).toMatchObject({ ok: true });
  });
});

describe('the ingress check with a hostile resolver', () => {
  async function ingressCheck(host: string): Promise<Checked<IngressObservations>> {
    const check = { name: 'gate', type: 'ingress', url: `https://${host}:${ingress.port}/api`, ingress: ['127.0.0.2'], resolvers: [dns.address], ca: caPath, timeout: '5s', expect: { status: [401] } };
    return (await runYaml(stringify({ checks: [check] }))).result as unknown as Checked<IngressObservations>;
  }

  it('does not dial the stray address: the name does not resolve', async () => {
    const seen = stale.requests.length;
    const result = await ingressCheck('stray.hostile.test');
    expect(result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `DNS drift: stray.hostile.test does not resolve (only records for other names: ${STRAY}) (expected 127.0.0.2); the ingress answers 401 as expected`,
      observations: { verdict: 'dns-drift', resolvers: [{ answers: [], ignored: [STRAY] }] },
    });
    expect(result.observations?.addresses.map((a) => a.address)).toEqual(['127.0.0.2']);
    expect(stale.requests.length).toBe(seen);
  });

  it('is healthy when the real record comes with a stray one, and reports the stray one', async () => {
    const seen = stale.requests.length;
    const result = await ingressCheck('mixed.hostile.test');
    expect(result).toMatchObject({ ok: true, observations: { verdict: 'healthy', resolvers: [{ answers: ['127.0.0.2'], ignored: [STRAY] }] } });
    expect(stale.requests.length).toBe(seen);
    expect((await ingressCheck('chain.hostile.test')).observations).toMatchObject({ verdict: 'healthy' });
  });
});

/**
 * The system resolver, in a network and mount namespace of the test's own: only loopback, the
 * hostile server on 127.0.0.1:53, and a resolv.conf naming it bind-mounted over /etc/resolv.conf
 * (nothing outside the namespace changes). getaddrinfo (glibc) drops the stray record itself;
 * Node's Resolver (c-ares) does not, which is why other types go through driftwatch's own client.
 */
const CHILD = `
const { startHostileDns } = await import(process.env.PEER);
const { runYaml } = await import(process.env.CHECKS);
const dns = await startHostileDns({ port: 53 });
const run = async (query, record, answers) => (await runYaml(JSON.stringify({ checks: [{ name: 'dns', type: 'dns', query, record, timeout: '5s', expect: { answers } }] }))).result;
try {
  process.stdout.write(JSON.stringify([
    await run('stray.hostile.test', 'A', ['127.0.0.3']),
    await run('mixed.hostile.test', 'A', ['127.0.0.2']),
    await run('stray.hostile.test', 'TXT', ['evil']),
    await run('mixed.hostile.test', 'TXT', ['good']),
    await run('chain.hostile.test', 'TXT', ['good']),
  ]));
} finally {
  await dns.close();
}
`;

describe('the system resolver', { timeout: 60_000 }, () => {
  it('drops records for other names for A (getaddrinfo) and for other types (own client, not c-ares)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-resolv-'));
    try {
      const resolv = join(dir, 'resolv.conf');
      // Nothing listens on 127.0.0.2:53: the hostile server is the second name server, asked next.
      await writeFile(resolv, 'nameserver 127.0.0.2\nnameserver 127.0.0.1\n');
      const script = `ip link set lo up && mount --bind "$RESOLV" /etc/resolv.conf && exec "$NODE" --import tsx --input-type=module -e "$CHILD"`;
      const root = fileURLToPath(new URL('..', import.meta.url));
      const env = { ...process.env, RESOLV: resolv, NODE: process.execPath, CHILD, PEER: new URL('peers/hostile-dns.ts', import.meta.url).href, CHECKS: new URL('support/checks.ts', import.meta.url).href };
      const child = spawn('unshare', ['--mount', '--net', 'sh', '-c', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const { code, stdout, stderr } = await collect(child, 50_000);
      expect(code, stderr).toBe(0);
      const [strayA, mixedA, strayTxt, mixedTxt, chainTxt] = JSON.parse(stdout) as Checked<DnsObservations>[];
      expect(strayA).toMatchObject({ ok: false, reason: 'dns', observations: { resolvers: [{ via: 'getaddrinfo', answers: [] }] } });
      expect(mixedA).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'getaddrinfo', answers: ['127.0.0.2'] }] } });
      expect(strayTxt).toMatchObject({
        ok: false,
        reason: 'dns',
        message: 'resolver system answered only records for other names (evil.attacker.test. TXT evil), none for stray.hostile.test',
        observations: { resolvers: [{ via: 'system', answers: [], ignored: ['evil.attacker.test. TXT evil'] }] },
      });
      expect(mixedTxt).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'system', answers: ['good'], ignored: ['evil.attacker.test. TXT evil'] }] } });
      expect(chainTxt).toMatchObject({ ok: true, observations: { resolvers: [{ via: 'system', answers: ['good'], cnames: ['lb.example.net.'] }] } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
