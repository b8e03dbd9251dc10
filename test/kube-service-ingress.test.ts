import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServiceIngress } from '../src/kube/service-ingress.js';
import { CheckFailure } from '../src/results/result.js';
import { createServices } from '../src/runner/services.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { loadBalancerService } from './peers/kube-objects.js';
import { loadClientNode } from '../src/kube/client-node.js';

// @kubernetes/client-node loads on first use (as the daemon preloads it): not inside a test's timeout.
beforeAll(async () => {
  await loadClientNode();
});

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
  // Addresses are data here (documentation ranges); nothing dials them.
  kube.put(loadBalancerService('kube-system', 'traefik', [{ ip: '203.0.113.10' }, { ip: '2001:db8::10' }, { hostname: 'lb.example.net' }]));
  kube.put(loadBalancerService('kube-system', 'pending-lb', []));
});

afterAll(async () => {
  await kube.close();
});

describe('readServiceIngress', () => {
  it("reads a Service's load-balancer IPs and hostnames through the kube clients", async () => {
    const { kube: clients } = createServices({});
    const ingress = await readServiceIngress(clients, { namespace: 'kube-system', name: 'traefik', kubeconfig }, { signal: AbortSignal.timeout(5000), redact: () => undefined });
    expect(ingress).toEqual({ type: 'LoadBalancer', ips: ['203.0.113.10', '2001:db8::10'], hostnames: ['lb.example.net'] });
  });

  it('gives empty lists while no address is published', async () => {
    const { kube: clients } = createServices({});
    const ingress = await readServiceIngress(clients, { namespace: 'kube-system', name: 'pending-lb', kubeconfig }, { signal: AbortSignal.timeout(5000), redact: () => undefined });
    expect(ingress).toEqual({ type: 'LoadBalancer', ips: [], hostnames: [] });
  });

  it('fails like the checks do: a missing Service, a refused token, an aborted signal', async () => {
    const { kube: clients } = createServices({});
    const missing = readServiceIngress(clients, { namespace: 'kube-system', name: 'nope', kubeconfig }, { signal: AbortSignal.timeout(5000), redact: () => undefined });
    await expect(missing).rejects.toThrow(new CheckFailure('assertion', 'service nope not found in namespace kube-system'));
    await expect(missing).rejects.toBeInstanceOf(CheckFailure);

    kube.addToken('no-services', { deny: ['services'] });
    const denied = readServiceIngress(clients, { namespace: 'kube-system', name: 'traefik', kubeconfig: await kube.writeKubeconfig({ token: 'no-services' }) }, { signal: AbortSignal.timeout(5000), redact: () => undefined });
    await expect(denied).rejects.toMatchObject({ reason: 'auth', message: 'forbidden: get services "traefik" in namespace "kube-system" (403)' });

    kube.hang = true;
    try {
      const hung = readServiceIngress(clients, { namespace: 'kube-system', name: 'traefik', kubeconfig }, { signal: AbortSignal.timeout(300), redact: () => undefined });
      await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    } finally {
      kube.hang = false;
    }
  });
});
