import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { EndpointsObservations } from '../src/checks/service-endpoints.js';
import { loadClientNode } from '../src/kube/client-node.js';
import { mintCertificates, TEST_HOSTNAME, type Certificates, type Pem } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { endpointSlice, podEndpoint, type EndpointSlice } from './peers/kube-endpoints.js';
import { parseChecks, runYaml } from './support/checks.js';

/**
 * `endpointsFrom`: the check's URL asked at every ready endpoint of a Service, read from its
 * EndpointSlices on the stand-in API server. Four HTTPS pods on 127.0.0.2-5 (one port, as a
 * Service's targetPort), one of them still on the old release; a terminating and a not-ready
 * pod beside them that must be reported and never asked.
 */

const NEW = '6455902';
const OLD = '5f1a2b3';
const NS = 'hub';
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

let certs: Certificates;
let kube: KubeApi;
let kubeconfig: string;
let pods: HttpsPeer[] = [];
const versions = new Map<string, string>();
let slice: EndpointSlice;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  await loadClientNode();
  certs = await mintCertificates();
  opened.push(certs);
  const leaf = await certs.mintLeaf({ names: [TEST_HOSTNAME], notAfter: new Date(Date.now() + 90 * 86_400_000), file: 'pods-leaf' });
  pods = await startPods(leaf);
  for (const address of ADDRESSES) versions.set(address, address === '127.0.0.5' ? OLD : NEW);
  kube = await startKubeApi();
  opened.push(kube);
  kubeconfig = await kube.writeKubeconfig();
  const port = pods[0]?.port ?? 0;
  slice = kube.put(
    endpointSlice(NS, 'inter-hub', { name: 'http', port }, [
      podEndpoint(NS, 'inter-hub-7c9d-a1', '127.0.0.2', 'n1'),
      podEndpoint(NS, 'inter-hub-7c9d-b4', '127.0.0.3', 'n1'),
      podEndpoint(NS, 'inter-hub-7c9d-c9', '127.0.0.4', 'n2'),
      podEndpoint(NS, 'inter-hub-5f1a-x2', '127.0.0.5', 'n2'),
      podEndpoint(NS, 'inter-hub-5f1a-q7', '127.0.0.6', 'n3', 'terminating'),
      podEndpoint(NS, 'inter-hub-7c9d-z0', '127.0.0.7', 'n3', 'not-ready'),
    ]),
  );
  kube.put(endpointSlice(NS, 'drained', { name: 'http', port }, [podEndpoint(NS, 'drained-1', '127.0.0.8', 'n1', 'terminating'), podEndpoint(NS, 'drained-2', '127.0.0.9', 'n1', 'not-ready')]));
  const twoPorts = endpointSlice(NS, 'two-ports', { name: 'http', port }, [podEndpoint(NS, 'two-1', '127.0.0.2', 'n1')]);
  twoPorts.ports = [{ name: 'http', port, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }];
  kube.put(twoPorts);
});

afterAll(async () => {
  await Promise.all([...pods, ...opened].map((peer) => peer.close()));
});

/** Four pods on one port, each answering /version with the release it runs. */
async function startPods(tls: Pem): Promise<HttpsPeer[]> {
  const route = (address: string) => () => ({ status: 200, body: { version: versions.get(address) } });
  for (let attempt = 1; ; attempt++) {
    const first = await startHttpsPeer({ host: '127.0.0.2', tls, routes: { '/version': route('127.0.0.2') } });
    const started: HttpsPeer[] = [first];
    try {
      for (const address of ADDRESSES.slice(1)) started.push(await startHttpsPeer({ host: address, port: first.port, tls, routes: { '/version': route(address) } }));
      return started;
    } catch (err) {
      await Promise.all(started.map((peer) => peer.close()));
      if (attempt >= 5) throw err;
    }
  }
}

function checkYaml(endpointsFrom: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const check = {
    name: 'hub-version-everywhere',
    type: 'http',
    // The Service's port: never dialled, each endpoint is asked on its own port.
    url: `https://${TEST_HOSTNAME}/version`,
    ca: certs.caPath,
    timeout: '5s',
    endpointsFrom: { namespace: NS, kubeconfig, ...endpointsFrom },
    expect: { status: [200], bodyMatches: ['"version":"{release}"'] },
    ...extra,
  };
  return stringify({ checks: [check] });
}

function endpointsOf(observations: unknown) {
  const endpoints = (observations as { endpoints?: EndpointsObservations } | undefined)?.endpoints;
  if (endpoints === undefined) throw new Error('no endpoints in the observations');
  return endpoints;
}

describe('http endpointsFrom', () => {
  it('fails naming the one pod on the old release, and passes once it is redeployed', async () => {
    for (const pod of pods) pod.requests.length = 0;
    const before = await runYaml(checkYaml({ service: 'inter-hub' }), { release: NEW });
    expect(before.result.ok).toBe(false);
    expect(before.result.reason).toBe('assertion');
    expect(before.result.message).toMatch(/^3 of 4 endpoints of service hub\/inter-hub pass; inter-hub-5f1a-x2 \(127\.0\.0\.5:\d+ on node n2\): /);
    expect(before.result.message).not.toMatch(/7c9d|127\.0\.0\.[2346]/);
    const seen = endpointsOf(before.result.observations);
    expect(seen).toMatchObject({ service: 'hub/inter-hub', ready: 4, notReady: 2, passing: 3, failing: 1, notRequested: 0 });
    expect(seen.endpoints.map((e) => [e.pod, e.address, e.node, e.outcome])).toEqual([
      ['inter-hub-7c9d-a1', '127.0.0.2', 'n1', 'pass'],
      ['inter-hub-7c9d-b4', '127.0.0.3', 'n1', 'pass'],
      ['inter-hub-7c9d-c9', '127.0.0.4', 'n2', 'pass'],
      ['inter-hub-5f1a-x2', '127.0.0.5', 'n2', 'fail'],
      ['inter-hub-5f1a-q7', '127.0.0.6', 'n3', 'terminating'],
      ['inter-hub-7c9d-z0', '127.0.0.7', 'n3', 'not-ready'],
    ]);
    // Each pod asked once, with the URL's Host and SNI (as curl --connect-to would).
    for (const pod of pods) {
      expect(pod.requests.map((r) => [r.host, r.servername, r.path])).toEqual([[TEST_HOSTNAME, TEST_HOSTNAME, '/version']]);
    }
    expect(before.samples).toEqual(
      expect.arrayContaining([
        { name: 'driftwatch_endpoints', labels: { state: 'passing' }, value: 3 },
        { name: 'driftwatch_endpoints', labels: { state: 'failing' }, value: 1 },
        { name: 'driftwatch_endpoints', labels: { state: 'not-ready' }, value: 2 },
      ]),
    );

    versions.set('127.0.0.5', NEW);
    const after = await runYaml(checkYaml({ service: 'inter-hub' }), { release: NEW });
    expect(after.result.ok).toBe(true);
    expect(endpointsOf(after.result.observations)).toMatchObject({ passing: 4, failing: 0 });
    versions.set('127.0.0.5', OLD);
  });

  it('reads the endpoints on every run: a pod that leaves the slice is no longer asked', async () => {
    const removed = slice.endpoints?.splice(3, 1) ?? [];
    try {
      const run = await runYaml(checkYaml({ service: 'inter-hub' }), { release: NEW });
      expect(run.result.ok).toBe(true);
      expect(endpointsOf(run.result.observations)).toMatchObject({ ready: 3, passing: 3 });
    } finally {
      slice.endpoints?.splice(3, 0, ...removed);
    }
  });

  it('asks at most maxEndpoints and says how many it left out', async () => {
    const run = await runYaml(checkYaml({ service: 'inter-hub', maxEndpoints: 2 }), { release: NEW });
    expect(run.result.ok).toBe(true);
    const seen = endpointsOf(run.result.observations);
    expect(seen).toMatchObject({ ready: 4, passing: 2, notRequested: 2 });
    expect(seen.endpoints.filter((e) => e.outcome === 'not-requested').map((e) => e.address)).toEqual(['127.0.0.4', '127.0.0.5']);
  });

  it('fails with a reason when no endpoint is ready, the Service has no slice, or the port is not there', async () => {
    const drained = await runYaml(checkYaml({ service: 'drained' }), { release: NEW });
    expect(drained.result).toMatchObject({ ok: false, reason: 'assertion', message: 'service hub/drained has no ready endpoint (1 not ready, 1 terminating)' });
    const missing = await runYaml(checkYaml({ service: 'nope' }), { release: NEW });
    expect(missing.result).toMatchObject({ ok: false, reason: 'assertion', message: 'service hub/nope has no EndpointSlice (is there such a Service, with a selector?)' });
    const several = await runYaml(checkYaml({ service: 'two-ports' }), { release: NEW });
    expect(several.result).toMatchObject({ ok: false, reason: 'config', message: 'service hub/two-ports has several TCP ports (http, metrics): say which with endpointsFrom.port' });
    const wrongPort = await runYaml(checkYaml({ service: 'inter-hub', port: 'grpc' }), { release: NEW });
    expect(wrongPort.result).toMatchObject({ ok: false, reason: 'config', message: 'service hub/inter-hub has no TCP port "grpc" (its ports: http)' });
    const named = await runYaml(checkYaml({ service: 'two-ports', port: 'http' }), { release: NEW });
    expect(named.result.ok).toBe(true);
  });

  it('tcp: every ready endpoint must accept a connection, and the closed one is named', async () => {
    const tcpYaml = (service: string) =>
      stringify({ checks: [{ name: 'hub-tcp-everywhere', type: 'tcp', host: TEST_HOSTNAME, port: 443, timeout: '5s', endpointsFrom: { namespace: NS, service, kubeconfig } }] });
    const open = await runYaml(tcpYaml('inter-hub'));
    expect(open.result.ok).toBe(true);
    expect(endpointsOf(open.result.observations)).toMatchObject({ ready: 4, passing: 4 });
    const closed = await startHttpsPeer({ host: '127.0.0.2', tls: await certs.mintLeaf({ names: [TEST_HOSTNAME], notAfter: new Date(Date.now() + 86_400_000), file: 'closed-leaf' }) });
    const port = closed.port;
    await closed.close();
    const gone = kube.put(endpointSlice(NS, 'gone', { name: 'http', port }, [podEndpoint(NS, 'gone-1', '127.0.0.2', 'n1')]));
    const refused = await runYaml(tcpYaml('gone'));
    expect(refused.result).toMatchObject({ ok: false, reason: 'connect' });
    expect(refused.result.message).toMatch(/^0 of 1 endpoints of service hub\/gone pass; gone-1 \(127\.0\.0\.2:\d+ on node n1\): /);
    kube.remove(gone);
  });

  it('is refused beside resolve, and over 512 endpoints, with the field named', () => {
    expect(() => parseChecks(checkYaml({ service: 'inter-hub' }, { resolve: '127.0.0.2' }))).toThrow(/endpointsFrom.*give either resolve \(one address\) or endpointsFrom/s);
    expect(() => parseChecks(checkYaml({ service: 'inter-hub', maxEndpoints: 513 }))).toThrow(/endpointsFrom\.maxEndpoints/);
  });
});
