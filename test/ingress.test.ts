import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { IngressObservations } from '../src/checks/ingress.js';
import { judgeIngress, type AddressResult } from '../src/checks/ingress-verdict.js';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { createSeriesStore } from '../src/metrics/series-store.js';
import { runCheck } from '../src/runner/runner.js';
import type { Run } from '../src/results/run.js';
import { createServices } from '../src/runner/services.js';
import { mintCertificates, type Certificates, type Pem } from './peers/certs.js';
import { startHttpsPeer, startSilentPeer, type HttpsPeer, type Route } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { loadBalancerService, type Service } from './peers/kube-objects.js';
import { memoryLogger, parseChecks } from './support/checks.js';
import { loadClientNode } from '../src/kube/client-node.js';

// @kubernetes/client-node loads on first use (as the daemon preloads it): not inside a test's timeout.
beforeAll(async () => {
  await loadClientNode();
});

/**
 * The runbook's public-DNS gate on loopback: real Knot DNS answers the hub names with 127.0.0.2
 * ("ingress", answers 401) and/or 127.0.0.3 ("stale host", answers 404), both HTTPS on the same
 * port under the same hostname with certificates minted for this run.
 */
const ZONE = 'driftwatch.test';
const NAMES = ['hub', 'extra', 'gone', 'stale', 'wrong', 'down', 'both', 'from', 'hang'].map((n) => `${n}.${ZONE}`);
const HUBS: Record<string, Route> = { '/api/v2/hubs': { status: 401, body: 'unauthorized' } };
const OLD: Record<string, Route> = { '/api/v2/hubs': { status: 404, body: 'old api' } };

let certs: Certificates;
let knot: Knot;
let kube: KubeApi;
let kubeconfig: string;
let port: number;
let wrongPort: number;
let stoppedPort: number;
let hangPort: number;
let ingress: HttpsPeer;
let stale: HttpsPeer;
let traefik: Service;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  certs = await mintCertificates();
  opened.push(certs);
  const leaf = await certs.mintLeaf({ names: NAMES, notAfter: new Date(Date.now() + 90 * 86_400_000), file: 'ingress-leaf' });
  knot = await startKnot({ zones: { [ZONE]: zoneWith('hub 300 A 127.0.0.3') } });
  opened.push(knot);
  [ingress, stale] = await startPair(leaf, HUBS, OLD);
  port = ingress.port;
  // cert-mismatch: the ingress serves a certificate for another name.
  const [wrong] = await startPair(certs.wrongName, HUBS, OLD);
  wrongPort = wrong.port;
  // A stopped ingress: its port is closed now, the stale host on 127.0.0.3 still answers there.
  const [stopped] = await startPair(leaf, HUBS, OLD);
  stoppedPort = stopped.port;
  opened.splice(opened.indexOf(stopped), 1);
  await stopped.close();
  // A stale host that accepts connections and never answers, beside a working ingress.
  const silent = await startSilentPeer('127.0.0.3');
  opened.push(silent, await startHttpsPeer({ host: '127.0.0.2', port: silent.port, tls: leaf, routes: HUBS }));
  hangPort = silent.port;
  kube = await startKubeApi();
  opened.push(kube);
  kubeconfig = await kube.writeKubeconfig();
  traefik = kube.put(loadBalancerService('kube-system', 'traefik', [{ ip: '127.0.0.2' }]));
  kube.put(loadBalancerService('kube-system', 'pending', []));
});

afterAll(async () => {
  await Promise.all(opened.map((peer) => peer.close()));
});

/** The ingress on 127.0.0.2 and the stale host on 127.0.0.3, on one port (the URL has one). */
async function startPair(tls: Pem, ingressRoutes: Record<string, Route>, staleRoutes: Record<string, Route>): Promise<[HttpsPeer, HttpsPeer]> {
  for (let attempt = 1; ; attempt++) {
    const first = await startHttpsPeer({ host: '127.0.0.2', tls, routes: ingressRoutes });
    try {
      const second = await startHttpsPeer({ host: '127.0.0.3', port: first.port, tls, routes: staleRoutes });
      opened.push(first, second);
      return [first, second];
    } catch (err) {
      await first.close();
      if (attempt >= 5) throw err;
    }
  }
}

function ingressYaml(name: string, extra: Record<string, unknown> = {}, at = port): string {
  const check = {
    name: 'hub-ingress',
    type: 'ingress',
    url: `https://${name}.${ZONE}:${at}/api/v2/hubs`,
    ingress: ['127.0.0.2'],
    resolvers: [knot.address],
    ca: certs.caPath,
    timeout: '5s',
    expect: { status: [401] },
    ...extra,
  };
  return stringify({ checks: [check] });
}

function load(yaml: string) {
  const [check] = parseChecks(yaml);
  if (!check) throw new Error('no check');
  return check;
}

function run(check: ReturnType<typeof load>): Promise<Run> {
  return runCheck(check.bound, { log: memoryLogger().log, services: createServices({}), debug: true });
}

async function runIngress(name: string, extra: Record<string, unknown> = {}, at = port): Promise<{ run: Run; o: IngressObservations }> {
  const ran = await run(load(ingressYaml(name, extra, at)));
  return { run: ran, o: ran.result.observations as unknown as IngressObservations };
}

describe('the incident: the ingress answers 401, public DNS sends clients to the stale host', () => {
  it('is dns-drift with the sentence, then healthy once the zone points at the ingress (same check)', async () => {
    await knot.setZone(ZONE, zoneWith('hub 300 A 127.0.0.3'));
    const check = load(ingressYaml('hub'));
    const store = createSeriesStore({});
    const drift = await run(check);
    expect(drift.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `DNS drift: hub.${ZONE} resolves to 127.0.0.3 (expected 127.0.0.2); the ingress answers 401 as expected, the public address answers 404`,
      observations: {
        verdict: 'dns-drift',
        dnsMatch: false,
        expected: { addresses: ['127.0.0.2'], from: 'check file' },
        resolvers: [{ resolver: knot.address, rcode: 'NOERROR', answers: ['127.0.0.3'] }],
        addresses: [
          { via: '127.0.0.2', address: '127.0.0.2', status: 401, ok: true },
          { via: 'dns', address: '127.0.0.3', status: 404, ok: false, error: { reason: 'status', message: 'status 404, expected 401' } },
        ],
      },
    });
    // Both requests kept the hostname: SNI and Host, as curl --resolve and a browser would send.
    expect(ingress.requests.at(-1)).toMatchObject({ servername: `hub.${ZONE}`, host: `hub.${ZONE}:${port}` });
    expect(stale.requests.at(-1)).toMatchObject({ servername: `hub.${ZONE}`, host: `hub.${ZONE}:${port}` });
    expect(drift.samples).toContainEqual({ name: 'driftwatch_ingress_verdict', labels: { verdict: 'dns-drift' }, value: 1 });
    expect(drift.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: '127.0.0.2' }, value: 401 });
    expect(drift.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 404 });
    expect(drift.samples.filter((s) => s.name === 'driftwatch_http_phase_duration_seconds').map((s) => s.labels)).toHaveLength(10);
    expect(drift.samples.find((s) => s.name === 'driftwatch_tls_cert_expiry_timestamp_seconds')?.value).toBeGreaterThan(Date.now() / 1000);
    expect(drift.probeSamples()).toContainEqual({ name: 'probe_http_status_code', help: 'Response HTTP status code', value: 401 });
    store.record(check, drift);
    expect(store.render()).toContain('driftwatch_ingress_verdict{check="hub-ingress",type="ingress",verdict="dns-drift"} 1\n');

    await knot.setZone(ZONE, zoneWith('hub 300 A 127.0.0.2'));
    const fixed = await run(check);
    const healthy = `Healthy: hub.${ZONE} resolves to 127.0.0.2 as expected; the ingress answers 401 as expected`;
    expect(fixed.result).toMatchObject({ ok: true, message: healthy, observations: { verdict: 'healthy', dnsMatch: true, diagnosis: healthy } });
    // One request only: public DNS gives the ingress address, so the public path is the ingress path.
    expect((fixed.result.observations as unknown as IngressObservations).addresses).toHaveLength(1);
    expect(fixed.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 401 });
    store.record(check, fixed);
    const text = store.render();
    expect(text).toContain('driftwatch_ingress_verdict{check="hub-ingress",type="ingress",verdict="healthy"} 1\n');
    expect(text).not.toContain('verdict="dns-drift"');
  });
});

describe('each verdict from a real arrangement', () => {
  it('dns-drift: public DNS answers the ingress and an extra stale address', async () => {
    const { run: ran } = await runIngress('extra');
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `DNS drift: extra.${ZONE} resolves to 127.0.0.2 and 127.0.0.3 (expected 127.0.0.2); the ingress answers 401 as expected, the public address 127.0.0.3 answers 404`,
      observations: { verdict: 'dns-drift' },
    });
  });

  it('dns-drift: the name does not resolve at all, the ingress is fine', async () => {
    const { run: ran, o } = await runIngress('gone');
    expect(ran.result).toMatchObject({ ok: false, reason: 'dns', message: `DNS drift: gone.${ZONE} does not resolve (NXDOMAIN) (expected 127.0.0.2); the ingress answers 401 as expected` });
    expect(o.verdict).toBe('dns-drift');
    expect(ran.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 0 });
  });

  it('dns-drift: the public address never answers; the run still ends with its verdict before the timeout', async () => {
    const { run: ran } = await runIngress('hang', { timeout: '2s' }, hangPort);
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `DNS drift: hang.${ZONE} resolves to 127.0.0.3 (expected 127.0.0.2); the ingress answers 401 as expected, the public address does not answer: no answer within 1800ms`,
      observations: { verdict: 'dns-drift' },
    });
    expect(ran.result.durationMs).toBeLessThan(2000);
  });

  it('stale-host: DNS answers exactly the expected addresses, but one of them serves the old surface', async () => {
    const { run: ran } = await runIngress('stale', { ingress: ['127.0.0.2', '127.0.0.3'] });
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `Stale host: stale.${ZONE} resolves to 127.0.0.2 and 127.0.0.3 as expected; the ingress 127.0.0.2 answers 401 as expected, 127.0.0.3 answers 404 (expected 401)`,
      observations: { verdict: 'stale-host', dnsMatch: true },
    });
    expect(ran.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: '127.0.0.3' }, value: 404 });
  });

  it('cert-mismatch: the ingress serves a certificate for another name', async () => {
    const { run: ran } = await runIngress('wrong', {}, wrongPort);
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'tls',
      message: `Certificate mismatch: the ingress 127.0.0.2 fails TLS: certificate names [other.hub.${ZONE}] do not cover wrong.${ZONE} (ERR_TLS_CERT_ALTNAME_INVALID); wrong.${ZONE} resolves to 127.0.0.2 as expected`,
      observations: { verdict: 'cert-mismatch', addresses: [{ address: '127.0.0.2', tls: { verified: false, verifyError: 'ERR_TLS_CERT_ALTNAME_INVALID' } }] },
    });
  });

  it('ingress-down: the ingress is stopped (closed port) while DNS is right', async () => {
    const { run: ran } = await runIngress('down', {}, stoppedPort);
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'connect',
      message: `Ingress down: the ingress 127.0.0.2 is unreachable: connect ECONNREFUSED 127.0.0.2:${stoppedPort}; down.${ZONE} resolves to 127.0.0.2 as expected`,
      observations: { verdict: 'ingress-down' },
    });
    expect(ran.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: '127.0.0.2' }, value: 0 });
  });

  it('ingress-down: the ingress answers, but not what is expected', async () => {
    const { run: ran } = await runIngress('down', { url: `https://down.${ZONE}:${port}/api/v2/widgets` });
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'status',
      message: `Ingress down: the ingress 127.0.0.2 answers 404 (expected 401); down.${ZONE} resolves to 127.0.0.2 as expected`,
      observations: { verdict: 'ingress-down' },
    });
  });

  it('both-failing: the ingress is stopped and public DNS sends clients to the stale host', async () => {
    const { run: ran } = await runIngress('both', {}, stoppedPort);
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'connect',
      message: `Both failing: the ingress 127.0.0.2 is unreachable: connect ECONNREFUSED 127.0.0.2:${stoppedPort}; both.${ZONE} resolves to 127.0.0.3 (expected 127.0.0.2), the public address answers 404`,
      observations: { verdict: 'both-failing' },
    });
  });
});

describe('secrets in request headers', () => {
  it('sends a header secret to every address and never shows it in the result, the debug steps or the log', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    process.env.DW_TEST_INGRESS_CANARY = canary;
    try {
      const { log, lines } = memoryLogger();
      const check = load(ingressYaml('extra', { headers: { Authorization: { env: 'DW_TEST_INGRESS_CANARY' } } }));
      const ran = await runCheck(check.bound, { log, services: createServices({}), debug: true });
      expect(ran.result.observations).toMatchObject({ verdict: 'dns-drift' });
      expect(ingress.requests.at(-1)?.headers.authorization).toBe(canary);
      expect(stale.requests.at(-1)?.headers.authorization).toBe(canary);
      expect(JSON.stringify(ran.result)).not.toContain(canary);
      expect(lines()).not.toContain(canary);
    } finally {
      delete process.env.DW_TEST_INGRESS_CANARY;
    }
  });
});

describe('ingressFrom: the expected addresses come from the cluster', () => {
  it("takes them from a Service's status.loadBalancer.ingress and follows it when it changes", async () => {
    const ingressFrom = { namespace: 'kube-system', service: 'traefik', kubeconfig };
    const check = load(ingressYaml('from', { ingress: undefined, ingressFrom }));
    traefik.status.loadBalancer.ingress = [{ ip: '127.0.0.2' }];
    const healthy = await run(check);
    expect(healthy.result).toMatchObject({ ok: true, observations: { verdict: 'healthy', expected: { addresses: ['127.0.0.2'], from: 'service kube-system/traefik' } } });

    // The load balancer moved to 127.0.0.3 (which serves the old surface); DNS still says 127.0.0.2.
    traefik.status.loadBalancer.ingress = [{ ip: '127.0.0.3' }];
    const moved = await run(check);
    expect(moved.result).toMatchObject({
      ok: false,
      reason: 'status',
      message: `Ingress down: the ingress 127.0.0.3 answers 404 (expected 401); from.${ZONE} resolves to 127.0.0.2 (expected 127.0.0.3), the public address answers 401 as expected`,
      observations: { verdict: 'ingress-down', expected: { addresses: ['127.0.0.3'], from: 'service kube-system/traefik' } },
    });
  });

  it('fails without a verdict while the Service publishes no address', async () => {
    const ran = await run(load(ingressYaml('from', { ingress: undefined, ingressFrom: { namespace: 'kube-system', service: 'pending', kubeconfig } })));
    expect(ran.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: 'service kube-system/pending publishes no load-balancer IP in status.loadBalancer.ingress, so the expected ingress address is unknown',
      observations: {},
    });
    expect(ran.samples).toEqual([]);
  });
});

describe('verdict rules beyond the arrangements above (pure: data in, verdict out)', () => {
  const answer = (resolver: string, answers: string[], rcode = 'NOERROR') => ({ resolver, rcode, answers, via: 'udp' as const, durationMs: 1 });
  const pass = (address: string, via = address): AddressResult => ({ via, address, status: 401, ok: true });
  const status = (address: string, code: number, via = address): AddressResult => ({ via, address, status: code, ok: false, error: { reason: 'status', message: `status ${code}, expected 401` } });
  const refused = (address: string, via = address): AddressResult => ({ via, address, ok: false, error: { reason: 'connect', message: `connect ECONNREFUSED ${address}:443` } });
  const badCert = (address: string): AddressResult => ({ via: address, address, ok: false, error: { reason: 'tls', message: 'certificate expired at 2026-01-01T00:00:00.000Z (CERT_HAS_EXPIRED)' } });
  const base = { host: 'hub.test', expected: ['127.0.0.2'], expectedStatus: '401' };

  it.each([
    [
      'resolvers disagree: one still gives the stale host',
      { resolvers: [answer('system', ['127.0.0.3']), answer('127.0.0.1:53', ['127.0.0.2'])], ingress: [pass('127.0.0.2')], public: [status('127.0.0.3', 404, 'dns')] },
      'dns-drift',
      'dns',
      'DNS drift: hub.test resolves to 127.0.0.3 through system, 127.0.0.2 through 127.0.0.1:53 (expected 127.0.0.2); the ingress answers 401 as expected, the public address 127.0.0.3 answers 404',
    ],
    [
      'DNS points elsewhere, and elsewhere even answers as expected',
      { resolvers: [answer('system', ['127.0.0.4'])], ingress: [pass('127.0.0.2')], public: [pass('127.0.0.4', 'dns')] },
      'dns-drift',
      'dns',
      'DNS drift: hub.test resolves to 127.0.0.4 (expected 127.0.0.2); the ingress answers 401 as expected, the public address answers 401 as expected',
    ],
    [
      'the ingress is down, but clients are served elsewhere',
      { resolvers: [answer('system', ['127.0.0.4'])], ingress: [refused('127.0.0.2')], public: [pass('127.0.0.4', 'dns')] },
      'ingress-down',
      'connect',
      'Ingress down: the ingress 127.0.0.2 is unreachable: connect ECONNREFUSED 127.0.0.2:443; hub.test resolves to 127.0.0.4 (expected 127.0.0.2), the public address answers 401 as expected',
    ],
    [
      'the ingress certificate expired and DNS fails: both, with the ingress reason',
      { resolvers: [answer('system', [], 'SERVFAIL')], ingress: [badCert('127.0.0.2')], public: [] },
      'both-failing',
      'tls',
      'Both failing: the ingress 127.0.0.2 fails TLS: certificate expired at 2026-01-01T00:00:00.000Z (CERT_HAS_EXPIRED); hub.test does not resolve (SERVFAIL) (expected 127.0.0.2)',
    ],
    [
      'one of two expected addresses refuses: down, not stale',
      { expected: ['127.0.0.2', '127.0.0.3'], resolvers: [answer('system', ['127.0.0.2', '127.0.0.3'])], ingress: [pass('127.0.0.2'), refused('127.0.0.3')], public: [] },
      'ingress-down',
      'connect',
      'Ingress down: the ingress 127.0.0.2 answers 401 as expected, 127.0.0.3 is unreachable: connect ECONNREFUSED 127.0.0.3:443; hub.test resolves to 127.0.0.2 and 127.0.0.3 as expected',
    ],
  ])('%s', (_case, input, verdict, reason, message) => {
    const judged = judgeIngress({ ...base, ...input });
    expect(judged).toMatchObject({ verdict, diagnosis: message, failure: { reason, message } });
  });
});

describe('ingress check file', () => {
  it('defaults: resolvers [system], GET, status 2xx; a /probe override keeps the expected ingress', () => {
    const [loaded] = parseChecks(stringify({ checks: [{ name: 'hub', type: 'ingress', url: 'https://hub.example.com/api/v2/hubs', ingress: ['203.0.113.10'] }] }));
    expect(loaded?.spec).toMatchObject({ resolvers: ['system'], method: 'GET', expect: { status: ['2xx'] }, maxBodyBytes: 1048576 });
    expect(loaded?.bound.retarget('https://other.example.com/')).toMatchObject({ url: 'https://other.example.com/', ingress: ['203.0.113.10'] });
  });

  it.each([
    ['url: "https://hub.example.com/"', 'test.yaml:1:10: checks[0].ingress: give the expected addresses: ingress (a list of IPs) or ingressFrom (a Service)'],
    ['url: "https://203.0.113.10/", ingress: [203.0.113.10]', 'test.yaml:1:43: checks[0].url: the URL needs a host name (public DNS resolves it), not an IP address'],
    ['url: "https://hub.example.com/", ingress: [hub.example.com]', 'test.yaml:1:81: checks[0].ingress[0]: expected an IPv4 or IPv6 address'],
    ['url: "https://hub.example.com/", ingress: [203.0.113.10, 203.0.113.10]', 'test.yaml:1:80: checks[0].ingress: ingress addresses must be unique (each is a metric label)'],
    [
      'url: "https://hub.example.com/", ingress: [203.0.113.10], ingressFrom: { namespace: hub, service: traefik }',
      'test.yaml:1:109: checks[0].ingressFrom: give either ingress or ingressFrom, not both',
    ],
    ['url: "https://hub.example.com/", ingressFrom: { namespace: hub }', 'test.yaml:1:84: checks[0].ingressFrom.service: required (a string)'],
    ['url: "https://hub.example.com/", ingress: [203.0.113.10], resolvers: [nowhere]', 'test.yaml:1:108: checks[0].resolvers[0]: not a resolver: "nowhere" (expected system, IP, IP:port or [IPv6]:port)'],
  ])('rejects %s', (fragment, problem) => {
    let error: unknown;
    try {
      parseChecks(`checks: [{ name: hub, type: ingress, ${fragment} }]`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([problem]);
  });
});

/** The test zone; `hub` is the record the incident test changes under a running check. */
function zoneWith(hub: string): string[] {
  return [
    hub,
    'extra 300 A 127.0.0.2',
    'extra 300 A 127.0.0.3',
    'stale 300 A 127.0.0.2',
    'stale 300 A 127.0.0.3',
    'wrong 300 A 127.0.0.2',
    'down 300 A 127.0.0.2',
    'both 300 A 127.0.0.3',
    'from 300 A 127.0.0.2',
    'hang 300 A 127.0.0.3',
  ];
}
