import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startHttpPeer } from './peers/https.js';
import { listenDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * POST /api/v1/gate/flagger with the payload Flagger sends (pkg/apis/flagger/v1beta1
 * CanaryWebhookPayload: name, namespace, phase, checksum, metadata) for the webhook of the
 * shipped Canary (examples/flagger/canary.yaml), judged by Flagger's own rule
 * (pkg/controller/webhook.go, Flagger at 15bd6ad: a status above 202 is an error, anything else
 * goes on).
 */
const flaggerGoesOn = (status: number) => status <= 202;

interface Webhook {
  name: string;
  type: string;
  url: string;
  timeout?: string;
  metadata: Record<string, string>;
}

describe('the Flagger webhook of the gate', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  const token = 'flagger-token-93ad';
  let served: DaemonApi & { base: string };
  let base: string;
  let live = 'v1';
  let dbUp = true;
  let webhook: Webhook;

  beforeAll(async () => {
    const canary = parse(await readFile('examples/flagger/canary.yaml', 'utf8')) as { kind: string; spec: { analysis: { webhooks: Webhook[] } } };
    expect(canary.kind).toBe('Canary');
    const found = canary.spec.analysis.webhooks.find((w) => new URL(w.url).pathname === '/api/v1/gate/flagger');
    if (found === undefined) throw new Error('no driftwatch webhook in the Canary');
    webhook = found;
    const service = await peers.start(
      startHttpPeer({ host: '127.0.0.1', routes: { '/version': () => ({ body: `release ${live}` }), '/db': () => (dbUp ? { body: 'ok' } : { status: 503, body: 'down' }) } }),
    );
    const checks = [
      { name: 'hub-db', type: 'http', url: service.url('/db'), labels: { service: 'hub' } },
      { name: 'hub-version', type: 'http', url: service.url('/version'), labels: { service: 'hub' }, dependsOn: ['hub-db'], expect: { bodyContains: 'release {release}' } },
    ];
    served = await listenDaemonApi(stringify({ defaults: { interval: '1h', timeout: '1s' }, checks }), { token });
    base = served.base;
  });

  afterAll(async () => {
    await served.close();
    await peers.closeAll();
  });

  /** What Flagger POSTs for this webhook (Content-Type: application/json, no other header). */
  const callWebhook = async (metadata: Record<string, string>) => {
    const payload = { name: 'hub', namespace: 'hub', phase: 'Promoting', checksum: '6d5f9c8b7', metadata };
    const response = await fetch(`${base}${new URL(webhook.url).pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  // The shipped metadata with the test's token and a 2s gate (the Canary waits up to 50s).
  const shipped = () => ({ ...webhook.metadata, token, timeout: '2s' });

  it('goes on when the gate is green: 200', async () => {
    live = webhook.metadata.release ?? '';
    dbUp = true;
    const green = await callWebhook(shipped());
    expect(green.status).toBe(200);
    expect(flaggerGoesOn(green.status)).toBe(true);
    expect(green.json).toMatchObject({ passed: true, verdict: 'passed', canary: { name: 'hub', namespace: 'hub', phase: 'Promoting' } });
    expect(JSON.stringify(green.json)).not.toContain(token);
  });

  it('holds when the gate is red: 412 with the first broken link', async () => {
    live = 'old';
    const red = await callWebhook(shipped());
    expect(red.status).toBe(412);
    expect(flaggerGoesOn(red.status)).toBe(false);
    expect(red.json).toMatchObject({ passed: false, verdict: 'failed', firstBrokenLink: { name: 'hub-version', reason: 'assertion' } });
    dbUp = false;
    const rootDown = await callWebhook(shipped());
    expect(rootDown.status).toBe(412);
    expect(rootDown.json).toMatchObject({ firstBrokenLink: { name: 'hub-db', reason: 'status', blocking: ['hub-version'] } });
    dbUp = true;
  });

  it('never goes on when it cannot judge: no token, unknown check, unknown metadata key', async () => {
    const { token: _dropped, ...noToken } = shipped();
    for (const [metadata, status] of [
      [noToken, 401],
      [{ ...shipped(), checks: 'hub-nope' }, 404],
      [{ ...shipped(), colour: 'green' }, 400],
      [{ ...shipped(), labels: 'service' }, 400],
    ] as const) {
      const answer = await callWebhook(metadata);
      expect(answer.status).toBe(status);
      expect(flaggerGoesOn(answer.status)).toBe(false);
    }
  });
});
