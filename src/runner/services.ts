import type { Services } from '../checks/check-type.js';
import { usesKubernetes, type CheckSpec } from '../checks/registry.js';
import { resolveImageDigest } from '../checks/oci-image.js';
import { createKubeClients, type KubeClientOptions } from '../kube/clients.js';
import { createRedactions } from '../results/redactions.js';

export interface ServiceOptions {
  release?: string | undefined;
  kube?: KubeClientOptions;
  /** The loaded checks by name (all of them, before --only or sharding); default: none. */
  lookupCheck?: (name: string) => CheckSpec | undefined;
}

/** Builds the daemon-wide services checks share (created once per daemon or CLI run). */
export function createServices(options: ServiceOptions): Services {
  const lookupCheck = options.lookupCheck ?? (() => undefined);
  return {
    release: options.release,
    kube: createKubeClients(options.kube),
    imageDigest: async (name, ctx) => {
      const spec = lookupCheck(name);
      return spec?.type === 'oci-image' ? resolveImageDigest(spec, ctx) : undefined;
    },
    redactions: createRedactions(),
  };
}

/**
 * Loads what these checks will need before they run, so a first run's timeout does not include
 * it: today @kubernetes/client-node, only when a check reads the Kubernetes API. Call it after
 * loading (or reloading) the checks and before scheduling them. Never rejects: a failed import
 * is retried by the first run that needs it, which then reports the error as its result.
 */
export async function prepareServices(services: Services, specs: readonly CheckSpec[]): Promise<void> {
  if (!specs.some(usesKubernetes)) return;
  try {
    await services.kube.preload();
  } catch {
    // Reported by the checks themselves (see above).
  }
}
