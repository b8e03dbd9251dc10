import { parse } from 'yaml';

/**
 * The Kubernetes objects check files read through the pod's service account, derived in
 * TypeScript independently of the chart's template (charts/driftwatch/templates/_kube-reads.tpl)
 * so the chart test can compare the two on any check file, the real checks/inter-hub.yaml
 * included. Same shape as the template's: namespace -> "group/resource" -> sorted names.
 */
export type KubeReads = Record<string, Record<string, string[]>>;

const ROLLOUT_KINDS: Record<string, string> = {
  deployment: 'deployments', deployments: 'deployments', deploy: 'deployments',
  statefulset: 'statefulsets', statefulsets: 'statefulsets', sts: 'statefulsets',
  daemonset: 'daemonsets', daemonsets: 'daemonsets', ds: 'daemonsets',
};

export function deriveKubeReads(checkFiles: readonly string[]): KubeReads {
  const reads: KubeReads = {};
  const add = (namespace: unknown, group: string, resource: string, name: unknown) => {
    if (typeof namespace !== 'string' || typeof name !== 'string') throw new Error(`incomplete ${group}/${resource} reference`);
    const byResource = (reads[namespace] ??= {});
    const names = new Set(byResource[`${group}/${resource}`] ?? []).add(name);
    byResource[`${group}/${resource}`] = [...names].sort();
  };
  for (const text of checkFiles) {
    const doc = record(parse(text));
    const defaults = record(doc.defaults);
    const checks = Array.isArray(doc.checks) ? doc.checks.map(record) : [];
    for (const check of checks) {
      // Own credentials mean the service account is not used. The file's defaults reach the
      // Kubernetes check types' own keys, never the inside of ingressFrom.
      const ownSource = check.kubeconfig ?? check.context ?? defaults.kubeconfig ?? defaults.context;
      if (!ownSource && check.type === 'k8s-rollout' && typeof check.resource === 'string') {
        const match = /^([a-z]+)(?:\.apps)?\/(.+)$/.exec(check.resource);
        const resource = ROLLOUT_KINDS[match?.[1] ?? ''];
        if (!match || !resource) throw new Error(`bad rollout resource ${check.resource}`);
        add(check.namespace, 'apps', resource, match[2]);
      }
      if (!ownSource && check.type === 'cnpg-cluster') add(check.namespace, 'postgresql.cnpg.io', 'clusters', check.cluster);
      if (!ownSource && check.type === 'k8s-secret') add(check.namespace, '', 'secrets', check.secret);
      const steps = Array.isArray(check.steps) ? check.steps.map(record) : [];
      for (const holder of [check, ...steps]) {
        const from = record(holder.ingressFrom);
        if (holder.ingressFrom !== undefined && !(from.kubeconfig ?? from.context)) add(from.namespace, '', 'services', from.service);
      }
    }
  }
  return reads;
}

/**
 * What check files must list through the service account (the chart template's
 * driftwatch.kubeLists): namespace -> sorted "group/resource". A k8s-rollout with
 * expect.digestFrom lists its workload's pods; a helm-release check lists Secrets (Helm's
 * release Secrets by label); an http or tcp check with endpointsFrom lists the Service's
 * EndpointSlices.
 */
export type KubeLists = Record<string, string[]>;

export function deriveKubeLists(checkFiles: readonly string[]): KubeLists {
  const lists: KubeLists = {};
  const add = (namespace: unknown, key: string) => {
    if (typeof namespace !== 'string') throw new Error(`no namespace for ${key}`);
    lists[namespace] = [...new Set([...(lists[namespace] ?? []), key])].sort();
  };
  for (const text of checkFiles) {
    const doc = record(parse(text));
    const defaults = record(doc.defaults);
    for (const check of Array.isArray(doc.checks) ? doc.checks.map(record) : []) {
      const endpoints = record(check.endpointsFrom);
      // As ingressFrom: the file's defaults never reach inside endpointsFrom.
      if (check.endpointsFrom !== undefined && !(endpoints.kubeconfig ?? endpoints.context)) add(endpoints.namespace, 'discovery.k8s.io/endpointslices');
      if (check.kubeconfig ?? check.context ?? defaults.kubeconfig ?? defaults.context) continue;
      if (check.type === 'k8s-rollout' && record(check.expect).digestFrom !== undefined) add(check.namespace, '/pods');
      if (check.type === 'helm-release') add(check.namespace, '/secrets');
    }
  }
  return lists;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
