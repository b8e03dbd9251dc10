import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { ICMP_REFUSAL } from '../src/import/blackbox-module.js';
import { startBlackbox, type BlackboxPeer } from './peers/blackbox.js';
import { mintCertificates } from './peers/certs.js';
import { startHttpPeer, startHttpsPeer, type HttpPeer, type HttpsPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { memoryLogger } from './support/checks.js';
import { runCli } from './support/cli.js';
import { parseExposition } from './support/exposition.js';
import { PeerSet } from './support/peers.js';
import { startTcpPeer } from './support/tcp-peer.js';

/** blackbox_exporter's own example configuration, as the Debian package ships it (copied: doc files may be excluded from an install). */
const EXAMPLE = fileURLToPath(new URL('fixtures/blackbox-example.yml', import.meta.url));
const PASSWORD = 'mysecret';

describe('driftwatch import blackbox on blackbox_exporter example.yml', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let output: string;
  let report: string;
  let http: HttpPeer;
  let https: HttpsPeer;
  let tcp: Awaited<ReturnType<typeof startTcpPeer>>;
  let knot: Knot;
  let blackbox: BlackboxPeer;
  let daemon: Daemon;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-import-'));
    output = join(dir, 'imported.yaml');
    const imported = await runCli(['import', 'blackbox', EXAMPLE, '--output', output, '--allow-target', 'http://127.0.0.1:*/*', '--allow-target', '127.0.0.1:*']);
    expect(imported.code, imported.stderr).toBe(0);
    report = imported.stderr;
  });

  afterAll(async () => {
    delete process.env.BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD;
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports per module what it translated and what it could not, and why', () => {
    expect(report.split('\n')[0]).toBe(`${EXAMPLE}: 16 modules: 8 translated, 0 in part, 8 left out`);
    const block = (module: string) => {
      const lines = report.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`  ${module}`));
      const end = lines.findIndex((l, i) => i > at && /^ {2}\S/.test(l));
      return lines.slice(at, end < 0 ? undefined : end).join('\n');
    };
    expect(block('http_2xx_example')).toBe('  http_2xx_example -> http-2xx-example (http): translated\n    note: driftwatch speaks HTTP/1.1: HTTP/2.0 in httpVersions never matches');
    expect(block('http_with_proxy')).toBe('  http_with_proxy: left out\n    why: proxy_url: driftwatch dials targets directly, never through a proxy');
    expect(block('http_basic_auth_example')).toContain('note: basic_auth password was inline; it reads $BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD now (never inline): set it');
    // blackbox fails a body it cannot decompress: without compression the check would pass there.
    expect(block('http_gzip')).toBe('  http_gzip: left out\n    why: compression: blackbox asks for a compressed body and fails a response it cannot decompress; driftwatch does neither');
    expect(block('tls_connect')).toBe('  tls_connect -> tls-connect (tls): translated');
    expect(block('imap_starttls')).toContain('imap_starttls: left out\n    why: query_response:');
    expect(block('icmp_example')).toBe(`  icmp_example: left out\n    why: ${ICMP_REFUSAL}`);
    expect(ICMP_REFUSAL).toContain('the nearest equivalent is a tcp check');
    expect(block('dns_tcp_example')).toContain('dns_tcp_example: left out\n    why: query_type ANY');
    // The inline password never reaches the check file.
    expect(report).not.toContain(PASSWORD);
  });

  it('writes checks that validate, with the secret as a reference', async () => {
    const validated = await runCli(['validate', '--checks', output]);
    expect(validated.stdout).toBe('ok: 8 checks in 1 file\n');
    expect(validated.code).toBe(0);
    const text = await readFile(output, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('env: BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD');
  });

  it('probes like blackbox_exporter with example.yml for the same targets', async () => {
    const certs = await peers.start(mintCertificates());
    const page = { body: 'Download the latest version here', headers: { 'access-control-allow-origin': '*' } };
    const basic = `Basic ${Buffer.from(`username:${PASSWORD}`).toString('base64')}`;
    http = await peers.start(
      startHttpPeer({
        host: '127.0.0.1',
        routes: {
          '/': page,
          '/cookie': { ...page, headers: { ...page.headers, 'set-cookie': 'a=1' } },
          '/broken': { body: 'Could not connect to database' },
          '/login': (seen) => (seen.headers.authorization === basic ? { body: 'in' } : { status: 401 }),
        },
      }),
    );
    https = await peers.start(startHttpsPeer({ host: '127.0.0.1', tls: certs.leaf }));
    tcp = await peers.start(startTcpPeer());
    knot = await peers.start(startKnot({ zones: { 'prometheus.io': ['www 300 A 127.0.0.1', 'www 300 A 127.0.0.2'] } }));
    blackbox = await peers.start(startBlackbox(await readFile(EXAMPLE, 'utf8')));
    process.env.BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD = PASSWORD;
    daemon = createDaemon({ checkPaths: [output], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    await app.ready();

    const cases: [string, string][] = [
      ['http_2xx_example', http.url('/')],
      ['http_2xx_example', http.url('/cookie')],
      ['http_2xx_example', http.url('/broken')],
      ['http_2xx_example', http.url('/missing')],
      ['http_post_2xx', http.url('/')],
      ['http_basic_auth_example', http.url('/login')],
      ['tcp_connect_example', `127.0.0.1:${tcp.port}`],
      ['tcp_connect_example', `127.0.0.1:${tcp.closedPort}`],
      // The system roots do not trust the test CA: both fail the handshake.
      ['tls_connect', `127.0.0.1:${https.port}`],
      ['dns_udp_example', knot.address],
      ['dns_soa', knot.address],
    ];
    const seen: string[] = [];
    for (const [module, target] of cases) {
      const theirs = parseExposition((await blackbox.probe(module, target)).text);
      const res = await app.inject({ url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
      const ours = parseExposition(res.body);
      const value = (families: ReturnType<typeof parseExposition>, name: string) => families.get(name)?.samples[0]?.value;
      for (const name of ['probe_success', 'probe_http_status_code', 'probe_failed_due_to_regex', 'probe_dns_serial', 'probe_dns_answer_rrs']) {
        seen.push(`${module} ${target} ${name}: ${String(value(ours, name))}`);
        expect(`${module} ${target} ${name}: ${String(value(ours, name))}`).toBe(`${module} ${target} ${name}: ${String(value(theirs, name))}`);
      }
    }
    // Both outcomes occur, so agreeing means something.
    expect(seen.filter((s) => s.endsWith('probe_success: 1')).length).toBeGreaterThanOrEqual(4);
    expect(seen.filter((s) => s.endsWith('probe_success: 0')).length).toBeGreaterThanOrEqual(4);
  });
});

describe('driftwatch import blackbox on bad input', () => {
  it('exits 2 on a file that is not a blackbox configuration, and on a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-import-bad-'));
    try {
      const file = join(dir, 'blackbox.yml');
      await writeFile(file, 'modules:\n  m: { timeout: 5s }\n');
      const bad = await runCli(['import', 'blackbox', file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${file} is not a blackbox_exporter configuration:\n  modules.m.prober:`);
      const missing = await runCli(['import', 'blackbox', join(dir, 'nope.yml')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('cannot read');
      // Read at most 8 MiB: a blackbox.yml is a few KB, and parsing a huge file would take the heap.
      const huge = join(dir, 'huge.yml');
      await writeFile(huge, `modules: {}\n${'#'.repeat(9 * 1024 * 1024)}\n`);
      const tooLarge = await runCli(['import', 'blackbox', huge]);
      expect([tooLarge.code, tooLarge.stderr]).toEqual([2, `driftwatch import: cannot read ${huge} (more than 8 MiB)\n`]);
      const folder = await runCli(['import', 'blackbox', dir]);
      expect([folder.code, folder.stderr]).toEqual([2, `driftwatch import: cannot read ${dir} (not a regular file)\n`]);
      const other = await runCli(['import', 'uptime-kuma', file]);
      expect(other.code).toBe(2);
      expect(other.stderr).toContain('cannot import "uptime-kuma" (only blackbox)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
