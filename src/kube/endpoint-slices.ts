import { isIP } from 'node:net';
import { z } from 'zod';
import { CheckFailure } from '../results/result.js';
import type { KubeClients } from './clients.js';
import type { GetOptions } from './client.js';
import type { KubeSource } from './source.js';

/** discovery.k8s.io/v1, the API kube-proxy reads since Kubernetes 1.21. RBAC: `list endpointslices.discovery.k8s.io`. */
export const ENDPOINT_SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', apiKind: 'EndpointSlice' } as const;

/** Slices read per run at most: a Service has one per 100 endpoints by default, and a check requests at most 512. */
const MAX_SLICES = 64;

const condition = z.boolean().nullish();
const sliceSchema = z.object({
  addressType: z.string().optional(),
  endpoints: z
    .array(
      z.object({
        addresses: z.array(z.string()).default([]),
        conditions: z.object({ ready: condition, serving: condition, terminating: condition }).default({}),
        nodeName: z.string().nullish(),
        targetRef: z.object({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional() }).nullish(),
      }),
    )
    .nullish(),
  ports: z.array(z.object({ name: z.string().nullish(), port: z.number().int().nullish(), protocol: z.string().nullish() })).nullish(),
});
const sliceListSchema = z.object({ items: z.array(sliceSchema) });
type Slice = z.infer<typeof sliceSchema>;

export interface EndpointsRef extends KubeSource {
  namespace: string;
  service: string;
  /** The Service port's name, or the endpoints' port number; needed when the Service has several ports. */
  port?: string | number | undefined;
}

/** One endpoint of a Service as its EndpointSlices describe it. */
export interface ServiceEndpoint {
  address: string;
  /** The endpoint's own port (the Service's targetPort). */
  port: number;
  /** targetRef of kind Pod: the pod's name. */
  pod?: string;
  node?: string;
  /** The API's defaults: ready and serving true when unset, terminating false. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * The endpoints of a Service, from every EndpointSlice labelled with its name, each address
 * once (during a change an endpoint may sit in two slices), IPv4 and IPv6 slices alike (FQDN
 * slices have no address to dial and are skipped). Throws CheckFailure when the Service has no
 * slice or no such port.
 */
export async function readServiceEndpoints(kube: KubeClients, ref: EndpointsRef, options: GetOptions): Promise<ServiceEndpoint[]> {
  const client = await kube.client(ref);
  const labelSelector = `kubernetes.io/service-name=${ref.service}`;
  const { items } = await client.list({ ...ENDPOINT_SLICES, namespace: ref.namespace }, { labelSelector }, sliceListSchema, options);
  const service = `service ${ref.namespace}/${ref.service}`;
  const slices = items.filter((slice) => slice.addressType !== 'FQDN').slice(0, MAX_SLICES);
  if (slices.length === 0) throw new CheckFailure('assertion', `${service} has no EndpointSlice (is there such a Service, with a selector?)`);
  const seen = new Set<string>();
  const endpoints: ServiceEndpoint[] = [];
  for (const slice of slices) {
    const port = slicePort(slice, ref.port, service);
    for (const endpoint of slice.endpoints ?? []) {
      // The API: consumers use the first address (the others are the same endpoint).
      const address = endpoint.addresses[0];
      if (address === undefined || isIP(address) === 0 || seen.has(`${address}:${port}`)) continue;
      seen.add(`${address}:${port}`);
      const { ready, serving, terminating } = endpoint.conditions;
      const pod = endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined;
      endpoints.push({
        address,
        port,
        ...(pod !== undefined && { pod }),
        ...(endpoint.nodeName && { node: endpoint.nodeName }),
        ready: ready ?? true,
        serving: serving ?? ready ?? true,
        terminating: terminating ?? false,
      });
    }
  }
  return endpoints;
}

/** The slice's port named (or numbered) by the check, or its only port. */
function slicePort(slice: Slice, wanted: string | number | undefined, service: string): number {
  const ports = (slice.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  const known = ports.map((p) => p.name || String(p.port ?? '?')).join(', ') || 'none';
  const found = wanted === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
  if (found?.port == null) {
    const say = wanted === undefined ? `has several TCP ports (${known}): say which with endpointsFrom.port` : `has no TCP port ${JSON.stringify(wanted)} (its ports: ${known})`;
    throw new CheckFailure('config', `${service} ${say}`);
  }
  return found.port;
}
