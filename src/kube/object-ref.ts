/** One namespaced API object, named the way the API server and RBAC name it. */
export interface ObjectRef {
  /** API group; '' for the core group (Secrets, Services). */
  group: string;
  version: string;
  /** Lower-case plural resource, as in URLs and RBAC rules: deployments, secrets. */
  resource: string;
  /** How messages name the kind: "deployment", "secret", "CNPG cluster". */
  kind: string;
  namespace: string;
  name: string;
}

export const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'deployment' } as const;
export const STATEFULSETS = { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'statefulset' } as const;
export const DAEMONSETS = { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'daemonset' } as const;
export const SECRETS = { group: '', version: 'v1', resource: 'secrets', kind: 'secret' } as const;
export const SERVICES = { group: '', version: 'v1', resource: 'services', kind: 'service' } as const;
export const CNPG_CLUSTERS = { group: 'postgresql.cnpg.io', version: 'v1', resource: 'clusters', kind: 'CNPG cluster' } as const;

/** The real API path: /apis/apps/v1/namespaces/NS/deployments/NAME, /api/v1/... for core. */
export function apiPath(ref: ObjectRef): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  return `${root}/namespaces/${encodeURIComponent(ref.namespace)}/${ref.resource}/${encodeURIComponent(ref.name)}`;
}

/** The resource as an RBAC rule and the API server's messages name it: deployments.apps, secrets. */
export function rbacResource(ref: ObjectRef): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}

/** `get deployments.apps "hub" in namespace "hub"`: the verb and resource RBAC must allow. */
export function describeGet(ref: ObjectRef): string {
  return `get ${rbacResource(ref)} "${ref.name}" in namespace "${ref.namespace}"`;
}
