import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { memoryLogger } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * Deploy windows through the API, on a real listening daemon against a real loopback HTTP peer
 * whose health the test flips: a window opens, the failing check reads "converging" (API, status
 * page, metric), the service recovers and the window closes as converged; another reaches its
 * `until` first and closes unconverged (the counter the alert reads steps to 1); a gate with wait
 * opens one; bad requests are 4xx with the reason.
 */
const TOKEN = 'window-token-91c2';

interface WindowJson {
  id: string;
  kind: string;
  release?: string;
  openedBy: string;
  checks: string[];
  until: string;
  pending: string[];
  outcome?: string;
}

describe('deploy windows: /api/v1/windows', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let file: string;
  let service: HttpPeer;
  let daemon: Daemon;
  let app: FastifyInstance;
  let base: string;
  let healthy = false;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-windows-'));
    service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/app': () => (healthy ? { body: 'ok' } : { status: 503, body: 'rolling out' }), '/other': { body: 'ok' } } }));
    const checks = [
      { name: 'hub-app', type: 'http', url: service.url('/app'), labels: { stage: 'deploy' } },
      { name: 'hub-other', type: 'http', url: service.url('/other') },
    ];
    file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ defaults: { interval: '1h', timeout: '2s' }, checks }));
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test', token: TOKEN });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  /** token '': no Authorization header. */
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (token !== '') headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, text, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const open = (body: unknown) => call('POST', '/api/v1/windows', body);
  const run = (name: string) => call('POST', `/api/v1/checks/${name}/run`, undefined);
  const status = async (name: string) => (await call('GET', `/api/v1/checks/${name}`)).json.status;
  const metrics = async () => (await call('GET', '/metrics')).text;
  const windowOf = async (id: string) => (await call('GET', `/api/v1/windows/${id}`)).json as unknown as WindowJson;

  it('open -> the failing check is converging -> it passes -> the window closes as converged', async () => {
    healthy = false;
    await run('hub-app');
    expect(await status('hub-app')).toBe('failing');
    const opened = await open({ labels: { stage: 'deploy' }, release: 'v2', until: '5m' });
    expect(opened.status).toBe(201);
    const window = opened.json as unknown as WindowJson;
    expect(window).toMatchObject({ kind: 'deploy', release: 'v2', openedBy: 'api', checks: ['hub-app'], pending: ['hub-app'] });
    // The failure before the window opened decides nothing; a failing run inside it is converging.
    expect(await status('hub-app')).toBe('converging');
    expect((await run('hub-app')).json.ok).toBe(false);
    expect(await status('hub-app')).toBe('converging');
    expect((await call('GET', '/api/v1/checks/hub-app')).json.window).toMatchObject({ id: window.id, kind: 'deploy', release: 'v2' });
    expect((await call('GET', '/api/v1/checks?status=converging')).text).toContain('"hub-app"');
    expect((await call('GET', '/')).text).toContain('converging');
    expect(await metrics()).toMatch(/^driftwatch_check_window\{check="hub-app",kind="deploy"\} 1$/m);
    // Results are recorded as they are: the failure counts.
    expect(await metrics()).toMatch(/^driftwatch_check_failures_total\{check="hub-app"[^}]*\} [1-9]/m);
    const listed = (await call('GET', '/api/v1/windows')).json as { open: WindowJson[] };
    expect(listed.open.map((w) => w.id)).toEqual([window.id]);

    healthy = true;
    expect((await run('hub-app')).json.ok).toBe(true);
    expect(await windowOf(window.id)).toMatchObject({ id: window.id, outcome: 'converged', pending: [] });
    expect(((await call('GET', '/api/v1/windows')).json as { open: WindowJson[] }).open).toEqual([]);
    expect(await status('hub-app')).toBe('ok');
    expect(await metrics()).not.toContain('driftwatch_check_window{');
    // Closed: a failure is a failure again.
    healthy = false;
    await run('hub-app');
    expect(await status('hub-app')).toBe('failing');
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v2"\} 0$/m);
  });

  it('a window that reaches its until before the check passes closes unconverged, once', async () => {
    healthy = false;
    const opened = await open({ checks: ['hub-app'], release: 'v3', until: '1500ms' });
    expect(opened.status).toBe(201);
    const id = String(opened.json.id);
    await run('hub-app');
    expect(await status('hub-app')).toBe('converging');
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v3"\} 0$/m);
    const deadline = Date.now() + 10_000;
    while ((await windowOf(id)).outcome === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await windowOf(id)).toMatchObject({ outcome: 'unconverged', pending: ['hub-app'] });
    expect(await status('hub-app')).toBe('failing');
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v3"\} 1$/m);
    // Closing a closed window is a 404, and the counter does not step again.
    expect((await call('DELETE', `/api/v1/windows/${id}`)).status).toBe(404);
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v3"\} 1$/m);
  });

  it('survives a reload; DELETE closes it', async () => {
    healthy = false;
    const id = String((await open({ checks: ['hub-app'], until: '10m' })).json.id);
    await writeFile(file, stringify({ defaults: { interval: '1h', timeout: '3s' }, checks: [{ name: 'hub-app', type: 'http', url: service.url('/app'), labels: { stage: 'deploy' } }, { name: 'hub-other', type: 'http', url: service.url('/other') }] }));
    expect((await daemon.reload()).ok).toBe(true);
    expect((await windowOf(id)).outcome).toBeUndefined();
    expect(await status('hub-app')).toBe('converging');
    const closed = await call('DELETE', `/api/v1/windows/${id}`);
    expect(closed.status).toBe(200);
    expect(closed.json.outcome).toBe('closed');
    expect(await status('hub-app')).toBe('failing');
  });

  it('a gate with wait opens a window over its selection for as long as it waits', async () => {
    healthy = false;
    const gate = call('POST', '/api/v1/gate', { checks: ['hub-app'], release: 'v4', wait: true, timeout: '3s' });
    let seen: WindowJson | undefined;
    const deadline = Date.now() + 3000;
    while (seen === undefined && Date.now() < deadline) {
      seen = ((await call('GET', '/api/v1/windows')).json as { open: WindowJson[] }).open.find((w) => w.openedBy === 'gate');
      if (seen === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen).toMatchObject({ openedBy: 'gate', release: 'v4', checks: ['hub-app'] });
    expect((await gate).json.passed).toBe(false);
    expect(await windowOf(seen?.id ?? '')).toMatchObject({ outcome: 'unconverged' });
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v4"\} 1$/m);
  });

  it('a gate whose caller goes away closes its window without an unconverged alert', async () => {
    healthy = false;
    const abort = new AbortController();
    const gate = fetch(`${base}/api/v1/gate`, { method: 'POST', signal: abort.signal, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ checks: ['hub-app'], release: 'v5', wait: true, timeout: '8s' }) }).catch(() => undefined);
    let seen: WindowJson | undefined;
    const deadline = Date.now() + 3000;
    while (seen === undefined && Date.now() < deadline) {
      seen = ((await call('GET', '/api/v1/windows')).json as { open: WindowJson[] }).open.find((w) => w.release === 'v5');
      if (seen === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen).toBeDefined();
    abort.abort();
    await gate;
    const closedBy = Date.now() + 5000;
    while ((await windowOf(seen?.id ?? '')).outcome === undefined && Date.now() < closedBy) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await windowOf(seen?.id ?? '')).toMatchObject({ outcome: 'closed' });
    expect(await metrics()).toMatch(/^driftwatch_windows_unconverged_total\{release="v5"\} 0$/m);
  });

  it('refuses bad requests with the reason', async () => {
    const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString();
    const cases: [unknown, number, RegExp][] = [
      [{ checks: ['hub-app'], until: '2020-01-01T00:00:00Z' }, 400, /until: .* not in the future/],
      [{ checks: ['hub-app'], until: inAYear }, 400, /until: at most 24h ahead/],
      [{ checks: ['hub-app'], until: '48h' }, 400, /until: at most 24h ahead/],
      [{ checks: ['hub-app'], until: 'tomorrow' }, 400, /until: expected a duration/],
      [{ checks: ['hub-app'] }, 400, /until/],
      [{ checks: ['no-such-check'], until: '5m' }, 404, /no check named "no-such-check"/],
      [{ labels: { stage: 'nowhere' }, until: '5m' }, 400, /matches no check/],
      [{ until: '5m' }, 400, /name the checks or labels/],
      [{ checks: ['hub-app'], until: '5m', extra: 1 }, 400, /extra/],
    ];
    for (const [body, code, reason] of cases) {
      const answer = await open(body);
      expect(answer.status, JSON.stringify(body)).toBe(code);
      expect(String(answer.json.message), JSON.stringify(body)).toMatch(reason);
    }
    expect((await call('POST', '/api/v1/windows', { checks: ['hub-app'], until: '5m' }, '')).status).toBe(401);
    expect((await call('DELETE', '/api/v1/windows/nope')).status).toBe(404);
    expect((await call('GET', '/api/v1/windows/nope')).status).toBe(404);
    expect(((await call('GET', '/api/v1/windows')).json as { open: WindowJson[] }).open).toEqual([]);
  });
});
