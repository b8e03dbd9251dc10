import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { collect, startCli } from './support/cli.js';
import { PeerSet } from './support/peers.js';
import { waitFor } from './support/wait-for.js';

/**
 * A CI runner cancelling the job, or a step timeout, sends SIGINT or SIGTERM to `run --wait`:
 * the gate stops at once (runs in flight cancelled, no further round), still prints and writes
 * its report of what it knows, and exits with the shell's code for the signal (130, 143), which
 * is neither "all live" (0) nor "not live" (1). Real targets on loopback, the real CLI.
 */
interface InterruptedJson {
  ok: boolean;
  interrupted?: string;
  elapsedMs: number;
  results: { name: string; ok: boolean; reason?: string; message: string; attempts: number }[];
}

describe('run --wait interrupted by a signal', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let target: HttpPeer;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-gate-interrupt-'));
    target = await peers.start(
      startHttpPeer({
        host: '127.0.0.1',
        routes: { '/hang': { status: 200, body: 'late', delayMs: 50_000 }, '/down': { status: 503, body: 'starting' } },
      }),
    );
    const checks = [
      { name: 'hanging', type: 'http', url: target.url('/hang'), timeout: '40s' },
      { name: 'down', type: 'http', url: target.url('/down'), timeout: '2s' },
      { name: 'after-down', type: 'tcp', host: '127.0.0.1', port: target.port, timeout: '2s', dependsOn: ['down'] },
      { name: 'steady', type: 'tcp', host: '127.0.0.1', port: target.port, timeout: '2s' },
    ];
    file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ checks }));
  });
  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM while a run hangs: cancels it, prints the table, writes JUnit and the summary, exits 143', async () => {
    const junit = join(dir, 'gate.xml');
    const summary = join(dir, 'summary.md');
    const child = startCli(['run', '--checks', file, '--wait', '60s', '--junit', junit, '--summary', summary]);
    const done = collect(child, 30_000);
    await waitFor(async () => (target.requests.some((r) => r.path === '/hang') ? true : undefined), 'the hanging request', 20_000);
    // The /down answer comes at once, but the CLI must have read it before the signal: without
    // this pause a loaded machine sometimes signalled while that first attempt was in flight, and
    // the report then rightly said "cancelled" for it too.
    await waitFor(async () => (target.requests.some((r) => r.path === '/down') ? true : undefined), 'the /down request', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code, res.stderr).toBe(143);
    expect(Date.now() - signalledAt).toBeLessThan(10_000); // not the hanging run's 40 s timeout
    expect(res.stderr).toMatch(/^driftwatch run: interrupted by SIGTERM after \d+\.\ds: the report has each check's last result, runs in flight cancelled$/m);
    expect(res.stdout).toMatch(/^FAIL\s+hanging\s+http\s+.*timeout: cancelled: driftwatch run interrupted$/m);
    expect(res.stdout).toMatch(/^FAIL\s+down\s+http\s+.*status: status 503, expected 2xx$/m);
    expect(res.stdout).toMatch(/^BLOCKED\s+after-down\s+tcp\s/m);
    expect(res.stdout).toMatch(/^PASS\s+steady\s+tcp\s/m);
    const xml = await readFile(junit, 'utf8');
    expect([...xml.matchAll(/<testcase classname="[^"]+" name="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(['after-down', 'down', 'hanging', 'steady']);
    expect(xml).toContain('<failure type="timeout" message="cancelled: driftwatch run interrupted">');
    expect(await readFile(summary, 'utf8')).toMatch(/ · interrupted by SIGTERM\n/);
  });

  it('SIGINT between rounds: no further round, --json says interrupted, exits 130', async () => {
    const child = startCli(['run', '--checks', file, '--only', 'down,after-down,steady', '--wait', '60s', '--every', '30s', '--json']);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = collect(child, 30_000);
    await waitFor(async () => (/round 2 at .*; next round in 2\.0s/.test(stderr) ? true : undefined), 'the second round', 20_000);
    const requestsBefore = target.requests.filter((r) => r.path === '/down').length;
    child.kill('SIGINT');
    const res = await done;
    expect(res.code, res.stderr).toBe(130);
    const parsed = JSON.parse(res.stdout) as InterruptedJson;
    expect(parsed).toMatchObject({ ok: false, interrupted: 'SIGINT' });
    expect(parsed.elapsedMs).toBeLessThan(20_000);
    const down = parsed.results.find((r) => r.name === 'down');
    expect(down).toMatchObject({ ok: false, reason: 'status', message: 'status 503, expected 2xx', attempts: 2 });
    expect(target.requests.filter((r) => r.path === '/down').length).toBe(requestsBefore);
  });

  it('a gate not interrupted still exits 1 on the same failure', async () => {
    const res = await collect(startCli(['run', '--checks', file, '--only', 'down,steady', '--json']), 20_000);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).not.toHaveProperty('interrupted');
  });
});
