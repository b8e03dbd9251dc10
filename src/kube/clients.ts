import { createKubeClient, type KubeClient } from './client.js';
import { loadClientNode } from './client-node.js';
import { startJsonThread } from './json-thread.js';
import { resolveSource, type KubeSource } from './source.js';

/** Kube clients shared by every check of a daemon or CLI run, one per credential source. */
export interface KubeClients {
  /** The client for a check's kubeconfig/context (or the service account); rejects with CheckFailure('config') when unusable. */
  client(source: KubeSource): Promise<KubeClient>;
  /**
   * Imports @kubernetes/client-node and starts the JSON thread ahead of the first Kubernetes run,
   * so that run's timeout does not include either. Rejects when the import fails (a later
   * client() retries it).
   */
  preload(): Promise<void>;
}

export interface KubeClientOptions {
  /**
   * Prefix of the service-account folder (/var/run/secrets/kubernetes.io/serviceaccount), as
   * client-node's loadFromCluster takes it; tests point it at a temp folder.
   */
  inClusterPathPrefix?: string | undefined;
}

/**
 * Loads a kubeconfig (or the in-cluster layout) the first time a source is used and keeps it, so
 * a run does not re-parse files; a source that fails to load is retried on the next run. The
 * environment is read on each lookup, so the cache key follows KUBECONFIG.
 */
export function createKubeClients(options: KubeClientOptions = {}): KubeClients {
  const cache = new Map<string, Promise<KubeClient>>();
  return {
    async client(source) {
      const resolved = resolveSource(source, process.env, options.inClusterPathPrefix);
      const key = JSON.stringify(resolved);
      const cached = cache.get(key);
      if (cached) return cached;
      const created = createKubeClient(resolved);
      cache.set(key, created);
      // Concurrent runs of the same source share one load; a failed one is forgotten (unless a
      // newer attempt has replaced it already) so the next run tries again.
      created.catch(() => {
        if (cache.get(key) === created) cache.delete(key);
      });
      return created;
    },
    async preload() {
      startJsonThread();
      await loadClientNode();
    },
  };
}
