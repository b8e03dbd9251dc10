import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { runCli } from './support/cli.js';
import { PeerSet } from './support/peers.js';

/**
 * The runbook's DNS drift on loopback: Knot answers the stale address for the hub, and the
 * gates that go through public DNS depend on the DNS check. `driftwatch run` names one root
 * cause and reports the dependents blocked by it, without sending them a single request.
 */
const ZONE = 'driftwatch.test';

interface RunJson {
  ok: boolean;
  summary: string;
  results: { name: string; ok: boolean; reason?: string; message: string; blocked?: { by: string[]; roots: string[] } }[];
}

describe('run with dependsOn: DNS drift blocks the checks that depend on DNS', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let knot: Knot;
  let certs: Certificates;
  let ingress: HttpsPeer;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-gate-blocked-'));
    certs = await peers.start(mintCertificates());
    knot = await peers.start(startKnot({ zones: { [ZONE]: ['hub 300 A 127.0.0.3'] } }));
    ingress = await peers.start(
      startHttpsPeer({
        host: '127.0.0.2',
        tls: certs.leaf,
        routes: { '/api/v2/hubs': { status: 401, body: 'unauthorized' }, '/api/v2/openapi.json': { body: { openapi: '3.0.3', info: { title: 'hub', version: '1' }, paths: { '/api/v2/hubs': {} } } }, '/health': { body: 'ok' } },
      }),
    );
    const url = (path: string) => ingress.url(path, certs.hostname);
    const checks = [
      { name: 'hub-dns', type: 'dns', query: `hub.${ZONE}`, resolvers: [knot.address], expect: { answers: ['127.0.0.2'], excludes: ['127.0.0.3'] } },
      { name: 'hub-ingress', type: 'ingress', url: url('/api/v2/hubs'), ingress: ['127.0.0.2'], resolvers: [knot.address], ca: certs.caPath, expect: { status: [401] }, dependsOn: ['hub-dns'] },
      { name: 'hub-openapi', type: 'openapi', url: url('/api/v2/openapi.json'), resolve: '127.0.0.2', ca: certs.caPath, expect: { paths: ['/api/v2/hubs'] }, dependsOn: ['hub-dns'] },
      { name: 'hub-app', type: 'http', url: url('/health'), resolve: '127.0.0.2', ca: certs.caPath, dependsOn: ['hub-ingress'] },
      { name: 'hub-port', type: 'tcp', host: '127.0.0.2', port: ingress.port },
    ];
    file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ defaults: { timeout: '5s' }, checks }));
  });

  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('names hub-dns as the one root cause; its dependents are blocked, not run, and skipped in JUnit', async () => {
    const junit = join(dir, 'drift.xml');
    const table = await runCli(['run', '--checks', file, '--junit', junit]);
    expect(table.code, table.stderr).toBe(1);
    const rows = table.stdout.split('\n').filter((l) => /^(PASS|FAIL|BLOCKED)\s/.test(l));
    expect(rows.map((r) => r.split(/\s+/).slice(0, 2).join(' '))).toEqual(['FAIL hub-dns', 'BLOCKED hub-app', 'BLOCKED hub-ingress', 'BLOCKED hub-openapi', 'PASS hub-port']);
    expect(rows[0]).toMatch(/^FAIL\s+hub-dns\s+dns\s+\d+ms\s+assertion: resolver 127\.0\.0\.1:\d+ answered 127\.0\.0\.3, expected 127\.0\.0\.2/);
    expect(rows[1]).toMatch(/^BLOCKED\s+hub-app\s+http\s+0ms\s+blocked: hub-dns failed \(assertion\), through hub-ingress$/);
    expect(rows[2]).toMatch(/^BLOCKED\s+hub-ingress\s+ingress\s+0ms\s+blocked: hub-dns failed \(assertion\)$/);
    expect(table.stdout).toMatch(/\n\n1 passed, 1 failed, 3 blocked\nFirst broken link: hub-dns \(assertion\), blocking hub-ingress, hub-openapi and hub-app: resolver 127\.0\.0\.1:\d+ answered 127\.0\.0\.3, expected 127\.0\.0\.2 .*\(excluded\)\.\n$/);
    // Blocked means not run: the ingress peer saw no request at all.
    expect(ingress.requests).toEqual([]);
    expect(ingress.handshakes).toEqual([]);

    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuite name="driftwatch" tests="5" failures="1" errors="0" skipped="3"');
    expect(xml).toMatch(/<testcase classname="driftwatch.ingress" name="hub-ingress" time="0.000">\s*<skipped message="blocked: hub-dns failed \(assertion\)"\/>/);
    expect(xml).toMatch(/<testcase classname="driftwatch.dns" name="hub-dns" time="[\d.]+">\s*<failure type="assertion"/);

    const json = await runCli(['run', '--checks', file, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as RunJson;
    expect(parsed.summary).toMatch(/^First broken link: hub-dns \(assertion\), blocking hub-ingress, hub-openapi and hub-app: resolver /);
    const byName = new Map(parsed.results.map((r) => [r.name, r]));
    expect(byName.get('hub-app')).toMatchObject({ ok: false, blocked: { by: ['hub-ingress'], roots: ['hub-dns'] } });
    expect(byName.get('hub-app')?.reason).toBeUndefined();
    expect(byName.get('hub-openapi')).toMatchObject({ ok: false, message: 'blocked: hub-dns failed (assertion)', blocked: { by: ['hub-dns'], roots: ['hub-dns'] } });
    expect(byName.get('hub-dns')?.blocked).toBeUndefined();
  });

  it('--summary appends a Markdown report for the CI job summary: verdict, the sentence, one row per check', async () => {
    const summary = join(dir, 'step-summary.md');
    await writeFile(summary, '## deploy\n\n');
    const res = await runCli(['run', '--checks', file, '--release', 'abc1234', '--summary', summary]);
    expect(res.code).toBe(1);
    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('## deploy\n\n### ❌ driftwatch: 1 of 5 checks failing, 3 blocked\n\nrelease `abc1234`\n\n')).toBe(true);
    expect(md).toMatch(/\n\nFirst broken link: hub-dns \(assertion\), blocking hub-ingress, hub-openapi and hub-app: resolver 127\.0\.0\.1:\d+ answered 127\.0\.0\.3, .*\n\n\| Result \| Check \| Type \| Time \| Detail \|\n\| --- \| --- \| --- \| --: \| --- \|\n/);
    const rows = md.split('\n').filter((l) => /^\| (✅|❌|⏸️) /.test(l));
    expect(rows.map((r) => r.split(' | ').slice(0, 2).join(' | '))).toEqual(['| ❌ fail | `hub-dns`', '| ⏸️ blocked | `hub-app`', '| ⏸️ blocked | `hub-ingress`', '| ⏸️ blocked | `hub-openapi`', '| ✅ pass | `hub-port`']);
    expect(rows[1]).toBe('| ⏸️ blocked | `hub-app` | http | 0 ms | blocked: hub-dns failed (assertion), through hub-ingress |');
  });

  it('--only a dependent without its dependency runs it (a dependency left out does not block)', async () => {
    const res = await runCli(['run', '--checks', file, '--only', 'hub-openapi']);
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/^PASS\s+hub-openapi\s/m);
    expect(res.stdout).toMatch(/\nThe check passes\.\n$/);
  });

  it('once DNS answers the ingress again, every check runs and passes', async () => {
    await knot.setZone(ZONE, ['hub 300 A 127.0.0.2']);
    const before = ingress.requests.length;
    const res = await runCli(['run', '--checks', file]);
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/\n\n5 passed, 0 failed\nAll 5 checks pass\.\n$/);
    const paths = ingress.requests.slice(before).map((r) => r.path).sort();
    expect(paths).toEqual(['/api/v2/hubs', '/api/v2/openapi.json', '/health']);
  });
});
