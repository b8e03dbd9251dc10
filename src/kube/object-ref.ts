/** The objects of one resource in one namespace, named the way the API server and RBAC name them. */
export interface CollectionRef {
  /** API group; '' for the core group (Secrets, Services). */
  group: string;
  version: string;
  /** Lower-case plural resource, as in URLs and RBAC rules: deployments, secrets. */
  resource: string;
  /** How messages name the kind: "deployment", "secret", "CNPG cluster". */
  kind: string;
  /** The kind as the API names it in an object's `kind`: Deployment, Secret, Cluster. */
  apiKind: string;
  namespace: string;
}

/** One namespaced API object. */
export interface ObjectRef extends CollectionRef {
  name: string;
}

/** What a list asks the API server for; both selectors are evaluated by the server. */
export interface ListQuery {
  /** owner=helm,name=inter-hub; app in (a,b); !canary */
  labelSelector?: string;
  /** metadata.name=NAME */
  fieldSelector?: string;
  /**
   * Ask for a PartialObjectMetadataList (metadata only, Kubernetes 1.15+): the objects' contents
   * (a Secret's values) are not even sent.
   */
  metadataOnly?: boolean;
}

export const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'deployment', apiKind: 'Deployment' } as const;
export const STATEFULSETS = { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'statefulset', apiKind: 'StatefulSet' } as const;
export const DAEMONSETS = { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'daemonset', apiKind: 'DaemonSet' } as const;
export const SECRETS = { group: '', version: 'v1', resource: 'secrets', kind: 'secret', apiKind: 'Secret' } as const;
export const SERVICES = { group: '', version: 'v1', resource: 'services', kind: 'service', apiKind: 'Service' } as const;
export const PODS = { group: '', version: 'v1', resource: 'pods', kind: 'pod', apiKind: 'Pod' } as const;
export const CNPG_CLUSTERS = { group: 'postgresql.cnpg.io', version: 'v1', resource: 'clusters', kind: 'CNPG cluster', apiKind: 'Cluster' } as const;

/** The real API path: /apis/apps/v1/namespaces/NS/deployments/NAME, /api/v1/... for core. */
export function apiPath(ref: ObjectRef): string {
  return `${collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
}

/** /api/v1/namespaces/NS/secrets?labelSelector=...&fieldSelector=... */
export function listPath(ref: CollectionRef, query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.labelSelector !== undefined) params.set('labelSelector', query.labelSelector);
  if (query.fieldSelector !== undefined) params.set('fieldSelector', query.fieldSelector);
  const search = params.toString();
  return search === '' ? collectionPath(ref) : `${collectionPath(ref)}?${search}`;
}

function collectionPath(ref: CollectionRef): string {
  const root = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  return `${root}/namespaces/${encodeURIComponent(ref.namespace)}/${ref.resource}`;
}

/** The resource as an RBAC rule and the API server's messages name it: deployments.apps, secrets. */
export function rbacResource(ref: CollectionRef): string {
  return ref.group === '' ? ref.resource : `${ref.resource}.${ref.group}`;
}

/** `get deployments.apps "hub" in namespace "hub"`: the verb and resource RBAC must allow. */
export function describeGet(ref: ObjectRef): string {
  return `get ${rbacResource(ref)} "${ref.name}" in namespace "${ref.namespace}"`;
}

/** `list secrets in namespace "hub" (labelSelector owner=helm,name=hub)`. */
export function describeList(ref: CollectionRef, query: ListQuery): string {
  const selectors = [query.labelSelector && `labelSelector ${query.labelSelector}`, query.fieldSelector && `fieldSelector ${query.fieldSelector}`].filter(Boolean);
  return `list ${rbacResource(ref)} in namespace "${ref.namespace}"${selectors.length > 0 ? ` (${selectors.join(', ')})` : ''}`;
}
