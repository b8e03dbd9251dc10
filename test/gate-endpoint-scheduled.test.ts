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
 * POST /api/v1/gate while the scheduler's run of the check is in flight: the gate waits for that
 * run instead of probing the target a second time, and its answer is that run's result.
 */
describe('POST /api/v1/gate joins a scheduled run in flight', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let service: HttpPeer;
  let daemon: Daemon;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-gate-scheduled-'));
    service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/slow': { body: 'ok', delayMs: 1500 } } }));
    const file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ checks: [{ name: 'hub-slow', type: 'http', url: service.url('/slow'), interval: '4s', timeout: '3s' }] }));
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    daemon.start();
  });

  afterAll(async () => {
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers with the scheduled run, and the target sees one request', async () => {
    // The scheduler's run has reached the target and waits for its slow answer.
    const deadline = Date.now() + 15_000;
    while (service.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(service.requests.length).toBe(1);
    const response = await fetch(`${base}/api/v1/gate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ checks: ['hub-slow'] }) });
    const answer = (await response.json()) as { passed: boolean; checks: { startedAt: string; attempts: number }[] };
    expect(answer.passed).toBe(true);
    expect(service.requests.length).toBe(1);
    expect(answer.checks[0]?.startedAt).toBe(daemon.state.get('hub-slow')?.last?.startedAt);
  });
});
