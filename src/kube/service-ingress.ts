import { z } from 'zod';
import type { KubeClients } from './clients.js';
import type { GetOptions } from './client.js';
import { SERVICES } from './object-ref.js';
import type { KubeSource } from './source.js';

const serviceSchema = z.object({
  spec: z.object({ type: z.string().optional() }).optional(),
  status: z
    .object({
      loadBalancer: z
        .object({ ingress: z.array(z.object({ ip: z.string().optional(), hostname: z.string().optional() })).optional() })
        .optional(),
    })
    .optional(),
});

export interface ServiceRef extends KubeSource {
  namespace: string;
  name: string;
}

/** What a Service's load balancer publishes: the expected ingress addresses of a DNS name. */
export interface ServiceIngress {
  /** spec.type (LoadBalancer for a published Service; others have no ingress). */
  type: string | undefined;
  ips: string[];
  hostnames: string[];
}

/**
 * Reads a Service's status.loadBalancer.ingress through the same clients the Kubernetes checks
 * use. Empty lists mean no address is published yet; callers decide whether that fails. Throws
 * CheckFailure (auth, assertion for a missing Service, config, error) like the checks do.
 */
export async function readServiceIngress(kube: KubeClients, ref: ServiceRef, options: GetOptions): Promise<ServiceIngress> {
  const client = await kube.client(ref);
  const service = await client.get({ ...SERVICES, namespace: ref.namespace, name: ref.name }, serviceSchema, options);
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  return {
    type: service.spec?.type,
    ips: ingress.flatMap((entry) => (entry.ip ? [entry.ip] : [])),
    hostnames: ingress.flatMap((entry) => (entry.hostname ? [entry.hostname] : [])),
  };
}
