import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { FlowObservations } from '../src/checks/flow.js';
import { createSeriesStore } from '../src/metrics/series-store.js';
import { mintCertificates, TEST_HOSTNAME, type Certificates } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer, type SeenRequest } from './peers/https.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { startKubeApi } from './peers/kube-api.js';
import { loadBalancerService } from './peers/kube-objects.js';
import { loadClientNode } from '../src/kube/client-node.js';

/**
 * `type: flow` against a real HTTPS app on loopback: POST /login with Basic credentials (from a
 * secret reference) answers a token minted per run (the canary), GET /api/v2/hubs wants it as a
 * bearer token, and a revoked token is refused. The token never shows: not in the result, the
 * log, or the metrics.
 */

const USER = 'smoke@coulomb.social';
const PASSWORD = 'pw-flow-canary-login';
let token: string;
const revoked = new Set<string>();
let certs: Certificates;
let app: HttpsPeer;

function login(request: SeenRequest) {
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  if (request.method !== 'POST' || request.headers.authorization !== expected) return { status: 401, body: { error: 'bad credentials' } };
  return { status: 200, headers: { 'x-session': 'sess-public-7' }, body: { access_token: token, expires_in: 300 } };
}

function hubs(request: SeenRequest) {
  const bearer = request.headers.authorization?.replace(/^Bearer /, '');
  if (bearer === undefined) return { status: 401, body: 'unauthorized' };
  // A refusal that echoes the token in a header, which the failed expectation's message quotes.
  if (bearer !== token || revoked.has(bearer)) return { status: 403, headers: { 'x-refused-token': bearer }, body: `token ${bearer} refused` };
  return { status: 200, body: { hubs: [{ name: 'alpha' }], echo: bearer } };
}

beforeAll(async () => {
  token = `tok-${randomBytes(12).toString('hex')}`;
  certs = await mintCertificates();
  app = await startHttpsPeer({ host: '127.0.0.2', tls: certs.leaf, routes: { '/login': login, '/api/v2/hubs': hubs, '/big': { body: { token: 'x'.repeat(10_000) } } } });
  process.env.DRIFTWATCH_TEST_FLOW_LOGIN = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  process.env.DRIFTWATCH_TEST_FLOW_WRONG = `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}`;
});

afterAll(async () => {
  await app.close();
  await certs.close();
  delete process.env.DRIFTWATCH_TEST_FLOW_LOGIN;
  delete process.env.DRIFTWATCH_TEST_FLOW_WRONG;
});

function flowYaml(options: { login?: string; readPath?: string; capture?: Record<string, unknown>; readExpect?: Record<string, unknown> } = {}): string {
  const at = { resolve: app.host, ca: certs.caPath };
  const check = {
    name: 'hub-login-flow',
    type: 'flow',
    timeout: '5s',
    steps: [
      {
        name: 'login', method: 'POST', url: app.url('/login', TEST_HOSTNAME), ...at,
        headers: { Authorization: { env: options.login ?? 'DRIFTWATCH_TEST_FLOW_LOGIN' } },
        expect: { status: 200 },
        capture: { token: { json: 'access_token' }, session: { header: 'X-Session', public: true }, ...options.capture },
      },
      { name: 'read-hubs', url: app.url(options.readPath ?? '/api/v2/hubs', TEST_HOSTNAME), ...at, headers: { Authorization: 'Bearer {captures.token}' }, expect: options.readExpect ?? { status: 200, json: { 'hubs[0].name': 'alpha' } } },
      { name: 'read-again', url: app.url('/api/v2/hubs', TEST_HOSTNAME), ...at, headers: { Authorization: 'Bearer {captures.token}', 'X-Session': '{captures.session}' } },
    ],
  };
  return stringify({ checks: [check] });
}

function stepsOf(observations: unknown): FlowObservations['steps'] {
  return (observations as FlowObservations).steps;
}

describe('type: flow', () => {
  it('logs in, captures the token, reads the protected resource with it; the token shows nowhere', async () => {
    const logger = memoryLogger();
    const [check] = parseChecks(flowYaml());
    const run = await runYaml(flowYaml(), { log: logger.log });
    expect(run.result).toMatchObject({ ok: true, message: '3 steps passed' });
    const steps = stepsOf(run.result.observations);
    expect(steps.map((s) => [s.name, s.outcome, s.status])).toEqual([['login', 'pass', 200], ['read-hubs', 'pass', 200], ['read-again', 'pass', 200]]);
    // The secret capture is named, not shown; the public one is shown.
    expect(steps[0]?.captured).toEqual({ token: null, session: 'sess-public-7' });
    // The second step really sent the captured token (the app echoes it).
    expect(app.requests.filter((r) => r.path === '/api/v2/hubs').at(-1)?.headers.authorization).toBe(`Bearer ${token}`);
    const store = createSeriesStore({});
    if (check) store.record({ spec: check.spec, dependencies: [] }, run);
    const shown = [JSON.stringify(run.result), logger.lines(), store.render()].join('\n');
    expect(shown).not.toContain(token);
    expect(shown).not.toContain(PASSWORD);
    expect(store.render()).toMatch(/^driftwatch_flow_step_success\{check="hub-login-flow",type="flow",step="read-hubs"\} 1$/m);
  });

  it('a wrong password fails at step 1, naming it; the later steps are recorded as not run', async () => {
    const run = await runYaml(flowYaml({ login: 'DRIFTWATCH_TEST_FLOW_WRONG' }));
    expect(run.result).toMatchObject({ ok: false, reason: 'status', message: 'step 1 `login`: status 401, expected 200' });
    expect(stepsOf(run.result.observations).map((s) => s.outcome)).toEqual(['fail', 'not-run', 'not-run']);
    expect(run.result.observations).toMatchObject({ failedStep: 1 });
    expect(run.samples).toContainEqual({ name: 'driftwatch_flow_step_success', labels: { step: 'read-hubs' }, value: 0 });
  });

  it('a revoked token fails at step 2, and the refusal that echoes it is scrubbed', async () => {
    revoked.add(token);
    try {
      const run = await runYaml(flowYaml());
      expect(run.result).toMatchObject({ ok: false, reason: 'status' });
      expect(run.result.message).toMatch(/^step 2 `read-hubs`: status 403, expected 200/);
      // An expectation on the header that echoes the token: its message would quote it.
      const quoted = await runYaml(flowYaml({ readExpect: { status: [403], headers: { 'x-refused-token': 'none' } } }));
      expect(quoted.result.message).toMatch(/^step 2 `read-hubs`: header x-refused-token is "\[secret\]"/);
      expect(JSON.stringify(quoted.result)).not.toContain(token);
      expect(JSON.stringify(run.result)).not.toContain(token);
      expect(stepsOf(run.result.observations).map((s) => s.outcome)).toEqual(['pass', 'fail', 'not-run']);
    } finally {
      revoked.delete(token);
    }
  });

  it('a capture that matches nothing, or a value over 4 KiB, fails its step with the reason', async () => {
    const missing = await runYaml(flowYaml({ capture: { token: { json: 'data.token' } } }));
    expect(missing.result).toMatchObject({ ok: false, reason: 'assertion', message: 'step 1 `login`: capture token: json data.token matches nothing' });
    const regex = await runYaml(flowYaml({ capture: { token: { regex: '"access_token":"(tok-[0-9a-f]+)"' } } }));
    expect(regex.result.ok).toBe(true);
    const big = stringify({ checks: [{ name: 'big', type: 'flow', timeout: '5s', steps: [{ name: 'big', url: app.url('/big', TEST_HOSTNAME), resolve: app.host, ca: certs.caPath, capture: { token: { json: 'token' } } }] }] });
    expect((await runYaml(big)).result).toMatchObject({ ok: false, reason: 'assertion', message: 'step 1 `big`: capture token: the value is over 4096 bytes' });
  });

  it('a step pinned to the ingress a Service publishes (ingressFrom) dials that address with the URL\'s name', async () => {
    await loadClientNode();
    const kube = await startKubeApi();
    try {
      kube.put(loadBalancerService('kube-system', 'traefik', [{ ip: app.host }]));
      kube.put(loadBalancerService('kube-system', 'pending', []));
      const kubeconfig = await kube.writeKubeconfig();
      const pinned = (service: string, extra: Record<string, unknown> = {}) =>
        stringify({ checks: [{ name: 'pinned', type: 'flow', timeout: '5s', steps: [{ name: 'gate', url: app.url('/api/v2/hubs', TEST_HOSTNAME), ca: certs.caPath, ingressFrom: { namespace: 'kube-system', service, kubeconfig }, expect: { status: [401] }, ...extra }] }] });
      const run = await runYaml(pinned('traefik'));
      expect(run.result).toMatchObject({ ok: true });
      expect(app.requests.at(-1)).toMatchObject({ path: '/api/v2/hubs', host: `${TEST_HOSTNAME}:${app.port}`, servername: TEST_HOSTNAME });
      const none = await runYaml(pinned('pending'));
      expect(none.result).toMatchObject({ ok: false, reason: 'assertion', message: 'step 1 `gate`: service kube-system/pending publishes no load-balancer IP in status.loadBalancer.ingress' });
      expect(() => parseChecks(pinned('traefik', { resolve: '127.0.0.2' }))).toThrow(/give either resolve or ingressFrom, not both/);
    } finally {
      await kube.close();
    }
  });

  it('refuses, located: a value used before it is captured, a capture named twice, 21 steps, an inline credential without a capture', () => {
    const steps = (extra: Record<string, unknown>[]) => stringify({ checks: [{ name: 'f', type: 'flow', steps: extra }] });
    const step = (name: string, more: Record<string, unknown> = {}) => ({ name, url: 'https://hub.example.com/', ...more });
    expect(() => parseChecks(steps([step('a', { headers: { Authorization: 'Bearer {captures.token}' } }), step('b', { capture: { token: { json: 't' } } })]))).toThrow(
      /steps\[0\]\.headers\.Authorization: \{captures\.token\} is not captured by an earlier step \(no step before it captures anything\)/,
    );
    expect(() => parseChecks(steps([step('a', { capture: { t: { json: 'x' } } }), step('b', { capture: { t: { header: 'y' } } })]))).toThrow(/steps\[1\]\.capture\.t: t is captured by an earlier step already/);
    expect(() => parseChecks(steps(Array.from({ length: 21 }, (_, i) => step(`s${i}`))))).toThrow(/steps: at most 20 steps/);
    expect(() => parseChecks(steps([step('a', { headers: { Authorization: 'Bearer abc' } })]))).toThrow(/Authorization carries a credential/);
    expect(() => parseChecks(steps([step('a', { capture: { t: { json: 'x', header: 'y' } } })]))).toThrow(/give exactly one of json, header or regex/);
  });
});
