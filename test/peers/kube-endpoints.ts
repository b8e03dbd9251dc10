import type { KubeObject } from './kube-objects.js';

/**
 * discovery.k8s.io/v1 EndpointSlices as the EndpointSlice controller writes them for a Service
 * with a selector (Kubernetes API reference v1.30): labelled kubernetes.io/service-name, one
 * port named after the Service's port, each endpoint with its address, conditions, nodeName and
 * the Pod as targetRef. Mutate `endpoints` to move pods along (a redeploy, a pod terminating).
 */
export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[] | null;
  ports: { name: string; port: number; protocol: 'TCP' | 'UDP' }[] | null;
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid: string };
  zone?: string;
}

let serial = 0;

export function endpointSlice(namespace: string, service: string, port: { name: string; port: number }, endpoints: SliceEndpoint[], suffix = 'x7k2p'): EndpointSlice {
  serial++;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${suffix}`,
      namespace,
      uid: `9e2b7c${String(serial).padStart(2, '0')}-1a2b-4c3d-8e9f-0a1b2c3d4e5f`,
      resourceVersion: String(71_400 + serial),
      generation: 1,
      creationTimestamp: '2026-12-01T09:00:00Z',
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'app.kubernetes.io/name': service },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-12-01T09:00:00Z' },
    },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
  };
}

/** A pod's endpoint: ready and serving unless said otherwise; terminating implies not ready. */
export function podEndpoint(namespace: string, pod: string, address: string, node: string, state: 'ready' | 'not-ready' | 'terminating' = 'ready'): SliceEndpoint {
  const conditions = state === 'ready' ? { ready: true, serving: true, terminating: false } : state === 'not-ready' ? { ready: false, serving: false, terminating: false } : { ready: false, serving: true, terminating: true };
  return { addresses: [address], conditions, nodeName: node, targetRef: { kind: 'Pod', name: pod, namespace, uid: `c0ffee${pod.length}-${address}` }, zone: 'eu-west-1a' };
}
