import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { writeDemoChecks } from '../examples/demo-checks.js';
import { INGRESS_IP, STALE_IP, startIncidentWorld, type IncidentWorld } from '../examples/incident-world.js';
import { collect, runCli } from './support/cli.js';

/**
 * `npm run demo` (examples/): the stale-DNS incident on loopback. The world the demo starts is
 * checked with the real CLI (`driftwatch run` as a deploy pipeline runs it), and the demo entry
 * itself runs end to end, with --once and stopped by SIGINT.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DRIFT = 'DNS drift: hub.coulomb.social resolves to 127.0.0.3 (expected 127.0.0.2); the ingress answers 401 as expected, the public address answers 404';
/** Each test starts Node processes (the CLI, tsx); on a loaded machine that takes seconds each. */
const SLOW = 120_000;
const CLI_MS = 30_000;
const HEALTHY = 'Healthy: hub.coulomb.social resolves to 127.0.0.2 as expected; the ingress answers 401 as expected';

const runJson = z.object({
  ok: z.boolean(),
  results: z.array(z.object({ name: z.string(), ok: z.boolean(), observations: z.record(z.string(), z.unknown()) })),
});

/** name -> PASS/FAIL, with the verdict of ingress checks: the whole picture in one comparable value. */
function picture(stdout: string): Record<string, string> {
  const { results } = runJson.parse(JSON.parse(stdout));
  const verdict = (o: Record<string, unknown>) => (typeof o.verdict === 'string' ? ` ${o.verdict}` : '');
  return Object.fromEntries(results.map((r) => [r.name, `${r.ok ? 'PASS' : 'FAIL'}${verdict(r.observations)}`]));
}

describe('the incident world through driftwatch run', () => {
  let world: IncidentWorld;
  let checks: string;

  beforeAll(async () => {
    world = await startIncidentWorld();
    checks = await writeDemoChecks(world);
  });

  afterAll(async () => {
    await world.close();
  });

  it('exits 1 during the incident with the dns-drift verdict and its sentence, and 0 once DNS points at the ingress', async () => {
    const incident = await runCli(['run', '--checks', checks], {}, CLI_MS);
    expect(incident.code, incident.stderr).toBe(1);
    expect(incident.stdout).toMatch(/FAIL +hub-ingress-hubs +ingress/);
    expect(incident.stdout).toContain(`[dns-drift] dns: ${DRIFT}`);
    expect(incident.stdout).toContain('4 passed, 6 failed');
    const asJson = await runCli(['run', '--checks', checks, '--json'], {}, CLI_MS);
    expect(picture(asJson.stdout)).toEqual({
      'hub-dns': 'FAIL',
      'hub-ingress-hubs': 'FAIL dns-drift',
      'hub-ingress-widgets': 'FAIL dns-drift',
      'hub-hubs-gate': 'FAIL',
      'hub-widgets-gate': 'FAIL',
      'hub-openapi': 'FAIL',
      // The stale host still looks like inter-hub, and the ingress is fine all along.
      'hub-landing': 'PASS',
      'hub-hubs-gate-ingress': 'PASS',
      'hub-openapi-ingress': 'PASS',
      'hub-tls': 'PASS',
    });

    world.repoint(INGRESS_IP);
    await writeDemoChecks(world);
    const fixed = await runCli(['run', '--checks', checks, '--json'], {}, CLI_MS);
    expect(fixed.code, fixed.stdout).toBe(0);
    const { results } = runJson.parse(JSON.parse(fixed.stdout));
    expect(results.find((r) => r.name === 'hub-ingress-hubs')?.observations).toMatchObject({ verdict: 'healthy', diagnosis: HEALTHY });
    expect(Object.values(picture(fixed.stdout)).every((state) => state.startsWith('PASS'))).toBe(true);
  }, SLOW);

  it('close() stops every server and removes the temp folder', async () => {
    const other = await startIncidentWorld();
    expect(existsSync(other.caPath)).toBe(true);
    await other.close();
    expect(existsSync(other.dir)).toBe(false);
    const dnsPort = Number(other.resolver.split(':')[1]);
    for (const [host, port] of [[INGRESS_IP, other.port], [STALE_IP, other.port], ['127.0.0.1', dnsPort]] as const) {
      expect(await connectError(host, port), `${host}:${port}`).toBe('ECONNREFUSED');
    }
    await other.close();
  });
});

describe('npm run demo', () => {
  it('--once tells the incident (dns-drift and its sentence), then healthy, and exits 0 with everything closed', async () => {
    const demo = await collect(startDemo(['--once']), SLOW - 10_000);
    expect(demo.code, demo.stderr).toBe(0);
    const out = demo.stdout;
    // The story wraps its lines for the terminal; the sentences are read with spaces only.
    const flat = out.replace(/\s+/g, ' ');
    const drift = flat.indexOf(`hub-ingress-hubs: verdict dns-drift ${DRIFT}`);
    const healthy = flat.indexOf(`hub-ingress-hubs: verdict healthy ${HEALTHY}`);
    expect(drift).toBeGreaterThan(0);
    expect(healthy).toBeGreaterThan(drift);
    expect(out).toContain('6 of 10 checks fail');
    expect(out).toContain('all 10 checks pass');
    // Nothing to open that is gone a moment later: no probe URL, no temp path but the one said removed.
    expect(out).not.toContain('/probe?check=');
    expect(out).not.toContain('inter-hub-demo.yaml');
    expect(out.match(/\/\S*driftwatch-demo-\S*/g)).toEqual([expect.stringMatching(/^\/\S+driftwatch-demo-\S+$/)]);
    expect(out).not.toMatch(/https?:\/\//);
    expect(out.replace(/\s+/g, ' ')).toContain('for the few seconds of --once (it all stops, and its temp folder is removed, once the story is told)');
    expectStopped(out);
  }, SLOW);

  it('stops cleanly on SIGINT during the incident: servers closed, temp folder removed, exit 0', async () => {
    const child = startDemo(['--port', '0', '--repoint-after', '600']);
    const exited = collect(child, SLOW - 10_000);
    try {
      await waitForOutput(child, 'Repointing DNS in 600s', SLOW - 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
      throw err;
    }
    child.kill('SIGINT');
    const demo = await exited;
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).not.toContain('2. The fix');
    // While it runs, it says where to look: the daemon and the check file exist meanwhile.
    expect(demo.stdout).toMatch(/curl -s 'http:\/\/127\.0\.0\.1:\d+\/probe\?check=hub-ingress-hubs&debug=true'/);
    expect(demo.stdout).toMatch(/src\/cli\.ts run --checks \/\S+\/inter-hub-demo\.yaml/);
    expectStopped(demo.stdout);
  }, SLOW);
});

function startDemo(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'examples/incident-demo.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every part reported stopped, in order, and the temp folder gone. */
function expectStopped(stdout: string): void {
  const dir = /removed (\/\S+)/.exec(stdout)?.[1];
  expect(stdout).toMatch(/Stopping:\n {2}stopped daemon \(scheduled checks\)\n {2}stopped status page and API\n {2}stopped HTTPS servers and DNS server; removed \S+\nDemo stopped\.\n$/);
  expect(dir).toMatch(/driftwatch-demo-/);
  expect(existsSync(dir ?? '/nonexistent')).toBe(false);
}

function waitForOutput(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.stdout?.off('data', onData);
      reject(new Error(`no "${text}" within ${timeoutMs} ms; output so far:\n${seen}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(text)) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve();
    };
    child.stdout?.on('data', onData);
  });
}

/** The error code of a TCP connect, or 'connected'. */
function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? err.message);
    });
  });
}
