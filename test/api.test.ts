import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger } from './support/checks.js';
import { startTcpPeer } from './support/tcp-peer.js';

const TOKEN = 'api-token-for-tests';

describe('HTTP API', () => {
  let dir: string;
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let daemon: Daemon;
  let app: FastifyInstance;
  let file: string;
  let goodChecks: string;

  beforeAll(async () => {
    peer = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-api-'));
    file = join(dir, 'checks.yaml');
    goodChecks = `defaults:
  interval: 1h
  timeout: 2s
checks:
  - name: db-port
    type: tcp
    host: 127.0.0.1
    port: ${peer.port}
    labels: { service: hub }
    allowTargets: ["127.0.0.1:${peer.port}", "localhost:*"]
  - name: dead-port
    type: tcp
    host: 127.0.0.1
    port: ${peer.closedPort}
`;
    await writeFile(file, goodChecks);
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, token: TOKEN, version: '0.0.0-test' });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await daemon.stop(1000);
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${TOKEN}` };

  it('is live at once and ready only once the scheduler runs', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    daemon.start();
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: 2 });
  });

  it('requires the bearer token on /probe and POST routes, not on reads', async () => {
    for (const [method, url] of [['GET', '/probe?check=db-port'], ['POST', '/api/v1/checks/db-port/run'], ['POST', '/-/reload']] as const) {
      const denied = await app.inject({ method, url });
      expect(denied.statusCode, url).toBe(401);
      expect(denied.headers['www-authenticate']).toContain('Bearer');
      const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode, url).toBe(401);
    }
    expect((await app.inject('/api/v1/checks')).statusCode).toBe(200);
    expect((await app.inject('/metrics')).statusCode).toBe(200);
  });

  it('runs a named check on /probe and returns the result JSON', async () => {
    const ok = await app.inject({ url: '/probe?check=db-port', headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'db-port', type: 'tcp', ok: true, message: 'ok', observations: { port: peer.port } });
    expect(ok.json()).not.toHaveProperty('steps');

    const failed = await app.inject({ url: '/probe?check=dead-port', headers: auth });
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toMatchObject({ name: 'dead-port', ok: false, reason: 'connect' });
    expect(failed.json<{ message: string }>().message).toContain('ECONNREFUSED');
  });

  it('answers /probe in blackbox_exporter names with format=prometheus', async () => {
    const res = await app.inject({ url: '/probe?check=dead-port&format=prometheus', headers: auth });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/^probe_success 0$/m);
    expect(res.body).toMatch(/^probe_duration_seconds \d/m);
  });

  it('gives the step-by-step record with debug=true', async () => {
    const res = await app.inject({ url: '/probe?check=db-port&debug=true', headers: auth });
    const steps = res.json<{ steps: { step: string }[] }>().steps;
    expect(steps.map((s) => s.step)).toContain('connected');
  });

  it('rejects unknown checks, bad queries and targets outside allowTargets', async () => {
    expect((await app.inject({ url: '/probe?check=nope', headers: auth })).json()).toMatchObject({ code: 'DRIFTWATCH_CHECK_NOT_FOUND' });
    expect((await app.inject({ url: '/probe?check=nope', headers: auth })).statusCode).toBe(404);
    const bad = await app.inject({ url: '/probe?format=xml', headers: auth });
    expect(bad.statusCode).toBe(400);
    // Said in the caller's words, each with an example (issue 16.7), and every problem at once.
    expect(bad.json<{ message: string }>().message).toBe('format: expected json or prometheus, like format=prometheus; check: give check=NAME or module=NAME (one of them), like /probe?check=hub-dns');
    const odd = await app.inject({ url: '/probe?check=a&check=b&debug=yes&colour=red', headers: auth });
    expect(odd.json<{ message: string }>().message).toBe('check: expected one check name, like check=hub-dns; debug: expected true or false, like debug=true; query: unknown parameter colour (accepted: check, module, target, format, debug)');
    const ssrf = await app.inject({ url: '/probe?check=db-port&target=10.0.0.1:22', headers: auth });
    expect(ssrf.statusCode).toBe(403);
    expect(ssrf.json<{ message: string }>().message).toContain('not allowed');
    const none = await app.inject({ url: `/probe?check=dead-port&target=127.0.0.1:${peer.port}`, headers: auth });
    expect(none.statusCode).toBe(403);
  });

  it('runs a check against an allowed target without touching its history', async () => {
    const before = (await app.inject('/api/v1/checks/db-port')).json<{ recent: unknown[] }>().recent.length;
    const res = await app.inject({ url: `/probe?check=db-port&target=localhost:${peer.closedPort}`, headers: auth });
    expect(res.json()).toMatchObject({ ok: false, reason: 'connect' });
    const after = (await app.inject('/api/v1/checks/db-port')).json<{ recent: unknown[] }>().recent.length;
    expect(after).toBe(before);
  });

  it('lists checks with their last result and shows one with spec and recent results', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/checks/dead-port/run', headers: auth });
    const list = (await app.inject('/api/v1/checks')).json<{ checks: { name: string; status: string; source: string }[] }>();
    expect(list.checks.map((c) => [c.name, c.status])).toEqual([
      ['db-port', 'ok'],
      ['dead-port', 'failing'],
    ]);
    expect(list.checks[0]?.source).toMatch(/checks\.yaml:5$/);
    const one = (await app.inject('/api/v1/checks/dead-port')).json<{ spec: Record<string, unknown>; recent: { ok: boolean }[]; every: string }>();
    expect(one.spec).toMatchObject({ name: 'dead-port', type: 'tcp', port: peer.closedPort });
    expect(one.every).toBe('1h');
    expect(one.recent.length).toBeGreaterThanOrEqual(2);
    expect(one.recent.every((r) => !r.ok)).toBe(true);
    expect((await app.inject('/api/v1/checks/nope')).statusCode).toBe(404);
  });

  it('keeps the latest result in full and the last 20 runs in brief', async () => {
    for (let i = 0; i < 22; i++) await app.inject({ method: 'POST', url: '/api/v1/checks/db-port/run', headers: auth });
    type Brief = Record<string, unknown> & { message: string; startedAt: string };
    const one = (await app.inject('/api/v1/checks/db-port')).json<{ last: { observations: Record<string, unknown>; startedAt: string; message: string }; recent: Brief[] }>();
    expect(one.recent).toHaveLength(20);
    expect(Object.keys(one.last.observations)).not.toHaveLength(0);
    expect(one.recent[0]).toMatchObject({ ok: true, message: one.last.message, startedAt: one.last.startedAt });
    expect(typeof one.recent[0]?.durationMs).toBe('number');
    for (const brief of one.recent) expect(Object.keys(brief).sort()).toEqual(['durationMs', 'message', 'ok', 'startedAt']);
    const times = one.recent.map((r) => r.startedAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('exports the runs as metrics', async () => {
    const text = (await app.inject('/metrics')).body;
    expect(text).toMatch(/^driftwatch_check_success\{check="db-port",type="tcp",service="hub"\} 1$/m);
    expect(text).toMatch(/^driftwatch_check_success\{check="dead-port",type="tcp"\} 0$/m);
    expect(text).toMatch(/^driftwatch_check_failures_total\{check="dead-port",type="tcp",reason="connect"\} [1-9]/m);
    expect(text).toMatch(/^driftwatch_checks 2$/m);
    expect(text).toMatch(/^driftwatch_config_last_reload_successful 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
  });

  it('keeps the old checks when a reload finds an invalid file, and says why', async () => {
    await writeFile(file, `${goodChecks}  - name: broken\n    type: tcp\n    port: 1\n`);
    const res = await app.inject({ method: 'POST', url: '/-/reload', headers: auth });
    expect(res.statusCode).toBe(422);
    expect(res.json<{ problems: string[] }>().problems).toEqual([expect.stringMatching(/checks\.yaml:\d+:\d+: checks\[2\]\.host: required \(a string\)$/)]);
    expect((await app.inject('/api/v1/checks')).json<{ checks: unknown[] }>().checks).toHaveLength(2);
    expect((await app.inject('/metrics')).body).toMatch(/^driftwatch_config_last_reload_successful 0$/m);
    expect((await app.inject({ url: '/probe?check=db-port', headers: auth })).json()).toMatchObject({ ok: true });

    await writeFile(file, goodChecks.replace('name: dead-port', 'name: other-port'));
    const fixed = await app.inject({ method: 'POST', url: '/-/reload', headers: auth });
    expect(fixed.statusCode).toBe(200);
    const names = (await app.inject('/api/v1/checks')).json<{ checks: { name: string }[] }>().checks.map((c) => c.name);
    expect(names).toEqual(['db-port', 'other-port']);
    const text = (await app.inject('/metrics')).body;
    expect(text).toMatch(/^driftwatch_config_last_reload_successful 1$/m);
    expect(text).not.toContain('check="dead-port"');
  });

  it('serves its own OpenAPI document, and every documented route exists', async () => {
    const doc = (await app.inject('/api/v1/openapi.json')).json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        expect(app.hasRoute({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path}`).toBe(true);
      }
    }
  });

  it('answers over a real socket', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await request(`${address}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toContain('driftwatch_check_success');
  });
});
