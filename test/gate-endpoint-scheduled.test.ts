import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Daemon } from '../src/daemon/daemon.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { listenDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * POST /api/v1/gate while the scheduler's run of the check is in flight: the gate waits for that
 * run instead of probing the target a second time, and its answer is that run's result.
 */
describe('POST /api/v1/gate joins a scheduled run in flight', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let served: DaemonApi & { base: string };
  let service: HttpPeer;
  let daemon: Daemon;
  let base: string;

  beforeAll(async () => {
    service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/slow': { body: 'ok', delayMs: 1500 } } }));
    served = await listenDaemonApi(stringify({ checks: [{ name: 'hub-slow', type: 'http', url: service.url('/slow'), interval: '4s', timeout: '3s' }] }));
    ({ daemon, base } = served);
    daemon.start();
  });

  afterAll(async () => {
    await served.close();
    await peers.closeAll();
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
