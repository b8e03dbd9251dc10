/**
 * Legacy (unaggregated) API discovery for the stand-in API server, as kube-apiserver answers it
 * to a client that accepts plain application/json: /api (APIVersions), /apis (APIGroupList),
 * /api/v1 and /apis/GROUP/VERSION (APIResourceList). kubectl asks for aggregated discovery
 * (apidiscovery.k8s.io/v2) first and falls back to these, as it does against servers before 1.30;
 * with them `kubectl get` and `kubectl rollout status` resolve kinds and short names.
 */

interface Resource {
  name: string;
  singularName: string;
  kind: string;
  shortNames?: string[];
  categories?: string[];
}

const VERBS = ['get', 'list', 'watch'];

/** What the stand-in serves, with the names kube-apiserver gives them. */
const RESOURCES: Record<string, Resource[]> = {
  v1: [
    { name: 'pods', singularName: 'pod', kind: 'Pod', shortNames: ['po'], categories: ['all'] },
    { name: 'secrets', singularName: 'secret', kind: 'Secret' },
    { name: 'services', singularName: 'service', kind: 'Service', shortNames: ['svc'], categories: ['all'] },
  ],
  'apps/v1': [
    { name: 'daemonsets', singularName: 'daemonset', kind: 'DaemonSet', shortNames: ['ds'], categories: ['all'] },
    { name: 'deployments', singularName: 'deployment', kind: 'Deployment', shortNames: ['deploy'], categories: ['all'] },
    { name: 'statefulsets', singularName: 'statefulset', kind: 'StatefulSet', shortNames: ['sts'], categories: ['all'] },
  ],
  'postgresql.cnpg.io/v1': [{ name: 'clusters', singularName: 'cluster', kind: 'Cluster' }],
  'discovery.k8s.io/v1': [{ name: 'endpointslices', singularName: 'endpointslice', kind: 'EndpointSlice' }],
};

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discovery(path: string, groupVersions: readonly string[], serverAddress: string): object | undefined {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  const groups = groupVersions.filter((gv) => gv.includes('/'));
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name = '', version = ''] = gv.split('/');
        const entry = { groupVersion: gv, version };
        return { name, versions: [entry], preferredVersion: entry };
      }),
    };
  }
  const groupVersion = path === '/api/v1' ? 'v1' : /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
  if (groupVersion === undefined || !groupVersions.includes(groupVersion)) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: (RESOURCES[groupVersion] ?? []).map((r) => ({ ...r, namespaced: true, verbs: VERBS, storageVersionHash: Buffer.from(r.name).toString('base64').slice(0, 11) })),
  };
}
