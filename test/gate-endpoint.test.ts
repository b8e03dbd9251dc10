import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Daemon } from '../src/daemon/daemon.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { listenDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * POST /api/v1/gate on a real listening API, against real loopback HTTP peers: a deploy that
 * settles (the service answers the old release, then the new one, while the gate waits), a
 * dependency chain whose root fails (the first broken link named in the JSON), shared runs
 * (two gates at once probe the target once) and the bounds of the request.
 */
const TOKEN = 'gate-token-7f3a';

interface GateJson {
  passed: boolean;
  verdict: string;
  summary: string;
  release?: string;
  rounds: number;
  firstBrokenLink?: { name: string; type: string; reason: string; message: string; blocking: string[] };
  brokenLinks: unknown[];
  checks: { name: string; ok: boolean; startedAt: string; attempts: number; passedAfterMs?: number; message: string; blocked?: unknown }[];
}

describe('POST /api/v1/gate', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let served: DaemonApi & { base: string };
  let service: HttpPeer;
  let daemon: Daemon;
  let base: string;
  /** The release the service answers with: the deploy in the test flips it. */
  let live = 'v1';
  let dbHealthy = false;

  beforeAll(async () => {
    service = await peers.start(
      startHttpPeer({
        host: '127.0.0.1',
        routes: {
          '/version': () => ({ body: `release ${live}` }),
          '/slow': { body: 'ok', delayMs: 400 },
          '/db': () => (dbHealthy ? { body: 'ok' } : { status: 503, body: 'down' }),
          '/app': { body: 'ok' },
        },
      }),
    );
    const checks = [
      { name: 'hub-version', type: 'http', url: service.url('/version'), labels: { stage: 'deploy' }, expect: { bodyContains: 'release {release}' } },
      { name: 'hub-slow', type: 'http', url: service.url('/slow') },
      { name: 'hub-db', type: 'http', url: service.url('/db') },
      { name: 'hub-app', type: 'http', url: service.url('/app'), dependsOn: ['hub-db'] },
      { name: 'hub-edge', type: 'http', url: service.url('/app'), dependsOn: ['hub-app'] },
    ];
    // No serve --release: the gate's release is the request's (runs for it are not recorded).
    served = await listenDaemonApi(stringify({ defaults: { interval: '1h', timeout: '2s' }, checks }), { token: TOKEN });
    ({ daemon, base } = served);
  });

  afterAll(async () => {
    await served.close();
    await peers.closeAll();
  });

  const gate = async (body: unknown, token = TOKEN) => {
    const response = await fetch(`${base}/api/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as GateJson };
  };
  const requestsTo = (path: string) => service.requests.filter((r) => r.path === path).length;

  it('is red while the old release answers, then green with wait once the deploy settles', async () => {
    live = 'v1';
    const red = await gate({ labels: { stage: 'deploy' }, release: 'v2' });
    expect(red.status).toBe(200);
    expect(red.json).toMatchObject({ passed: false, verdict: 'failed', release: 'v2', rounds: 1, firstBrokenLink: { name: 'hub-version', reason: 'assertion' } });
    expect(red.json.checks.map((c) => c.name)).toEqual(['hub-version']);

    // The deploy: the service starts answering v2 a second and a half into the waiting gate.
    const before = requestsTo('/version');
    const flip = setTimeout(() => {
      live = 'v2';
    }, 1500);
    try {
      const green = await gate({ checks: ['hub-version'], release: 'v2', wait: true, every: '500ms', timeout: '15s' });
      expect(green.status).toBe(200);
      expect(green.json).toMatchObject({ passed: true, verdict: 'passed', summary: 'The check passes.', brokenLinks: [] });
      expect(green.json.firstBrokenLink).toBeUndefined();
      const [check] = green.json.checks;
      expect(check?.attempts).toBeGreaterThanOrEqual(2);
      expect(check?.passedAfterMs).toBeGreaterThanOrEqual(1400);
      expect(green.json.rounds).toBe(check?.attempts);
      expect(requestsTo('/version') - before).toBe(check?.attempts);
    } finally {
      clearTimeout(flip);
    }
    // A run for a release other than the daemon's is not the check's state.
    expect(daemon.state.get('hub-version')?.last).toBeUndefined();
  });

  it('names the first broken link of the dependency graph, and what it blocks', async () => {
    dbHealthy = false;
    const red = await gate({ checks: ['hub-edge', 'hub-app', 'hub-db'] });
    expect(red.status).toBe(200);
    expect(red.json.passed).toBe(false);
    expect(red.json.verdict).toBe('failed');
    expect(red.json.firstBrokenLink).toEqual({ name: 'hub-db', type: 'http', reason: 'status', message: expect.stringContaining('503') as unknown, blocking: ['hub-app', 'hub-edge'] });
    expect(red.json.summary).toMatch(/^First broken link: hub-db \(status\), blocking hub-app and hub-edge: /);
    expect(red.json.checks.map((c) => [c.name, c.ok, c.blocked !== undefined])).toEqual([
      ['hub-db', false, false],
      ['hub-app', false, true],
      ['hub-edge', false, true],
    ]);
    dbHealthy = true;
    const green = await gate({ checks: ['hub-edge', 'hub-app', 'hub-db'] });
    expect(green.json).toMatchObject({ passed: true, verdict: 'passed', summary: 'All 3 checks pass.' });
  });

  it('shares a run between gates asking at once: the target is probed once', async () => {
    const before = requestsTo('/slow');
    const [a, b] = await Promise.all([gate({ checks: ['hub-slow'] }), gate({ checks: ['hub-slow'] })]);
    expect([a.json.passed, b.json.passed]).toEqual([true, true]);
    expect(a.json.checks[0]?.startedAt).toBe(b.json.checks[0]?.startedAt);
    expect(requestsTo('/slow') - before).toBe(1);
    // Done: the next gate runs it again.
    await gate({ checks: ['hub-slow'] });
    expect(requestsTo('/slow') - before).toBe(2);
  });

  it('stops waiting and rerunning when the caller goes away', async () => {
    dbHealthy = false;
    const before = requestsTo('/db');
    const caller = new AbortController();
    const asking = fetch(`${base}/api/v1/gate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ checks: ['hub-db'], wait: true, every: '300ms', timeout: '20s' }),
      signal: caller.signal,
    });
    const deadline = Date.now() + 10_000;
    while (requestsTo('/db') - before < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(requestsTo('/db') - before).toBeGreaterThanOrEqual(2);
    caller.abort();
    await expect(asking).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const afterGone = requestsTo('/db');
    // Two more pauses of the waiting gate: a gate still waiting would have asked again.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(requestsTo('/db')).toBe(afterGone);
  });

  it('is in the OpenAPI document, with the body the route parses and the answer it gives', async () => {
    interface Doc {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties?: boolean } }> }; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    }
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as Doc;
    const gateDoc = doc.paths['/api/v1/gate']?.post;
    expect(Object.keys(gateDoc?.requestBody.content['application/json']?.schema.properties ?? {})).toEqual(['checks', 'labels', 'release', 'wait', 'every', 'timeout']);
    expect(gateDoc?.requestBody.content['application/json']?.schema.additionalProperties).toBe(false);
    expect(Object.keys(gateDoc?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '404', '429']));
    expect(Object.keys(doc.paths['/api/v1/gate/flagger']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '412']));
    expect(Object.keys(doc.components.schemas.GateAnswer?.properties ?? {})).toEqual(expect.arrayContaining(['passed', 'verdict', 'firstBrokenLink', 'checks']));
  });

  it('refuses what it cannot judge with a 4xx, never a green answer', async () => {
    const unknown = await gate({ checks: ['hub-nope'] });
    expect(unknown).toMatchObject({ status: 404, json: { code: 'DRIFTWATCH_CHECK_NOT_FOUND' } });
    expect(await gate({ labels: { stage: 'nothing' } })).toMatchObject({ status: 400, json: { code: 'DRIFTWATCH_EMPTY_SELECTION' } });
    expect(await gate({ checks: ['hub-db'], colour: 'green' })).toMatchObject({ status: 400, json: { code: 'DRIFTWATCH_BAD_BODY' } });
    expect(await gate({ checks: ['hub-db'], timeout: '11m' })).toMatchObject({ status: 400, json: { code: 'DRIFTWATCH_BAD_BODY' } });
    expect(await gate({ checks: ['hub-db'], every: '1s' })).toMatchObject({ status: 400, json: { code: 'DRIFTWATCH_BAD_BODY' } });
    expect(await gate({ checks: ['hub-db'] }, 'wrong')).toMatchObject({ status: 401 });
    const huge = await fetch(`${base}/api/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ checks: ['x'.repeat(70_000)] }) });
    expect(huge.status).toBe(413);
    await huge.body?.cancel();
  });
});
