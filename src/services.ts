import type { Services } from './checks/check-type.js';
import { createKubeClients, type KubeClientOptions } from './kube/clients.js';

export interface ServiceOptions {
  release?: string | undefined;
  kube?: KubeClientOptions;
}

/** Builds the daemon-wide services checks share (created once per daemon or CLI run). */
export function createServices(options: ServiceOptions): Services {
  return { release: options.release, kube: createKubeClients(options.kube) };
}
