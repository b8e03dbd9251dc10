import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import type { Result } from '../src/results/result.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { memoryLogger } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * serve with dependsOn: the scheduler does not run a check whose dependency's latest result
 * fails, and records it as blocked in the API, the status page and the metrics. The database
 * here is an HTTP endpoint that answers 503 until the test heals it.
 */
async function until<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface CheckJson {
  status: string;
  dependsOn: string[];
  last?: Result;
  recent?: { ok: boolean; blocked?: boolean; message: string }[];
}

describe('serve: scheduled runs of a check whose dependency fails are recorded blocked, not run', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let target: HttpPeer;
  let daemon: Daemon;
  let app: FastifyInstance;
  let dbHealthy = false;
  const logs = memoryLogger();
  const last = (name: string) => daemon.state.get(name)?.last;
  const appRequests = () => target.requests.filter((r) => r.path === '/app').length;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-gate-serve-'));
    target = await peers.start(
      startHttpPeer({ host: '127.0.0.1', routes: { '/db': () => (dbHealthy ? { body: 'ok' } : { status: 503, body: 'down' }), '/app': { body: 'ok' } } }),
    );
    const checks = [
      { name: 'hub-db', type: 'http', url: target.url('/db') },
      { name: 'hub-app', type: 'http', url: target.url('/app'), dependsOn: ['hub-db'] },
      { name: 'hub-edge', type: 'http', url: target.url('/app'), dependsOn: ['hub-app'] },
    ];
    const file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ defaults: { interval: '1s', timeout: '800ms' }, checks }));
    daemon = createDaemon({ checkPaths: [file], log: logs.log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test' });
    await app.ready();
    daemon.start();
  });

  afterAll(async () => {
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('blocks the dependents once the dependency has failed, and does not run them meanwhile', async () => {
    await until(() => (last('hub-edge')?.blocked && last('hub-app')?.blocked ? true : undefined), 'hub-app and hub-edge blocked');
    expect(last('hub-db')).toMatchObject({ ok: false, reason: 'status' });
    expect(last('hub-app')).toMatchObject({ ok: false, message: 'blocked: hub-db failed (status)', blocked: { by: ['hub-db'], roots: ['hub-db'] } });
    expect(last('hub-app')?.reason).toBeUndefined();
    expect(last('hub-edge')).toMatchObject({ message: 'blocked: hub-db failed (status), through hub-app', blocked: { by: ['hub-app'], roots: ['hub-db'] } });
    // Three more slots of each: the dependency is asked, the dependents are not.
    const before = { app: appRequests(), db: target.requests.filter((r) => r.path === '/db').length };
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect(appRequests()).toBe(before.app);
    expect(target.requests.filter((r) => r.path === '/db').length).toBeGreaterThan(before.db);
    expect(last('hub-app')?.blocked).toBeDefined();
    const changed = logs
      .lines()
      .split('\n')
      .filter((line) => line.includes('"check":"hub-app"') && line.includes('check state changed'));
    expect(changed.at(-1)).toContain('"blocked":["hub-db"]');
  });

  it('shows blocked in the API and on the status page, with the root cause linked', async () => {
    const one = (await app.inject('/api/v1/checks/hub-app')).json<CheckJson>();
    expect(one).toMatchObject({ status: 'blocked', dependsOn: ['hub-db'], last: { ok: false, blocked: { by: ['hub-db'], roots: ['hub-db'] } } });
    expect(one.recent?.[0]).toMatchObject({ ok: false, blocked: true, message: 'blocked: hub-db failed (status)' });
    const list = (await app.inject('/api/v1/checks')).json<{ checks: { name: string; status: string }[] }>();
    expect(Object.fromEntries(list.checks.map((c) => [c.name, c.status]))).toEqual({ 'hub-db': 'failing', 'hub-app': 'blocked', 'hub-edge': 'blocked' });

    const page = await app.inject('/');
    expect(page.body).toContain('<h1>1 of 3 checks failing, 2 blocked</h1>');
    expect(page.body).toContain('<li class="blocked some">2 blocked</li>');
    const row = /<tr class="row blocked" id="check-hub-edge"[\s\S]*?<\/tr>/.exec(page.body)?.[0] ?? '';
    expect(row).toContain('<span class="pill blocked"><span aria-hidden="true">⊘ </span>blocked</span>');
    expect(row).toContain('blocked: hub-db failed (status), through hub-app');
    expect(row).toContain('Root cause: <a href="/checks/hub-db">hub-db</a> (through <a href="/checks/hub-app">hub-app</a>)');
    // Failing first (the root cause), then the blocked ones.
    expect([...page.body.matchAll(/<tr class="row (\w+)" id="check-([\w-]+)"/g)].map((m) => `${m[2] ?? ''}:${m[1] ?? ''}`)).toEqual(['hub-db:failing', 'hub-app:blocked', 'hub-edge:blocked']);
    const detail = await app.inject('/checks/hub-app');
    expect(detail.body).toContain('<dt>Depends on</dt><dd><a href="/checks/hub-db">hub-db</a>');
  });

  it('exports driftwatch_check_blocked 1, success 0, and counts no run or failure of its own', async () => {
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toContain('# TYPE driftwatch_check_blocked gauge');
    expect(metrics).toMatch(/^driftwatch_check_blocked\{check="hub-app",type="http"\} 1$/m);
    expect(metrics).toMatch(/^driftwatch_check_blocked\{check="hub-edge",type="http"\} 1$/m);
    expect(metrics).not.toMatch(/^driftwatch_check_blocked\{check="hub-db"/m); // no dependsOn, no series
    expect(metrics).toMatch(/^driftwatch_check_success\{check="hub-app",type="http"\} 0$/m);
    expect(metrics).not.toMatch(/^driftwatch_check_failures_total\{check="hub-(app|edge)"/m);
    expect(metrics).toMatch(/^driftwatch_check_runs_total\{check="hub-edge",type="http",result="failure"\} 0$/m);
    expect(metrics).toMatch(/^driftwatch_check_failures_total\{check="hub-db",type="http",reason="status"\} [1-9]\d*$/m);
    // Nothing observed while blocked: no HTTP series of the blocked checks.
    expect(metrics).not.toMatch(/^driftwatch_http_status_code\{check="hub-edge"/m);
  });

  it('once the dependency passes, the dependents run again at their next slot', async () => {
    const before = appRequests();
    dbHealthy = true;
    await until(() => (last('hub-edge')?.ok === true ? true : undefined), 'hub-edge ok again');
    expect(last('hub-app')).toMatchObject({ ok: true });
    expect(appRequests()).toBeGreaterThan(before);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/^driftwatch_check_blocked\{check="hub-edge",type="http"\} 0$/m);
    expect(metrics).toMatch(/^driftwatch_http_status_code\{check="hub-edge",type="http",via="dns"\} 200$/m);
  });
});
