/**
 * Real-shaped Kubernetes objects for the stand-in API server (kube-api.ts), as
 * `kubectl get -o json` prints them: apps/v1 Deployment, StatefulSet, DaemonSet and core/v1
 * Secret, Service and Pod after the Kubernetes API reference (v1.30), and postgresql.cnpg.io/v1
 * Cluster after CloudNativePG's API reference (ClusterSpec, ClusterStatus). Zero-valued status
 * integers are omitted as the API server omits them (omitempty). The helpers below move objects
 * the way the controllers would, so tests can walk a rollout through its states.
 */

export interface Metadata {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface Container {
  name: string;
  image: string;
  [key: string]: unknown;
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { containers: Container[]; [key: string]: unknown };
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
}

export interface Deployment extends KubeObject {
  spec: { replicas: number; template: PodTemplate; [key: string]: unknown };
  status: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number; unavailableReplicas?: number; conditions: Condition[] };
}

export interface StatefulSet extends KubeObject {
  spec: { replicas: number; updateStrategy: { type: string; rollingUpdate?: { partition: number } }; template: PodTemplate; [key: string]: unknown };
  status: { observedGeneration?: number; replicas?: number; readyReplicas?: number; currentReplicas?: number; updatedReplicas?: number; availableReplicas?: number; currentRevision?: string; updateRevision?: string; collisionCount?: number };
}

export interface DaemonSet extends KubeObject {
  spec: { updateStrategy: { type: string; rollingUpdate?: Record<string, unknown> }; template: PodTemplate; [key: string]: unknown };
  status: { observedGeneration?: number; currentNumberScheduled?: number; desiredNumberScheduled?: number; numberReady?: number; numberAvailable?: number; updatedNumberScheduled?: number; numberMisscheduled?: number; numberUnavailable?: number };
}

export interface ContainerStatus {
  name: string;
  image: string;
  /** What the runtime pulled: containerd `repo@sha256:...`, dockershim `docker-pullable://repo@sha256:...`. */
  imageID: string;
  containerID?: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
}

export interface Pod extends KubeObject {
  spec: { containers: Container[]; [key: string]: unknown };
  status: { phase: string; containerStatuses?: ContainerStatus[]; [key: string]: unknown };
}

export interface Secret extends KubeObject {
  type: string;
  data?: Record<string, string>;
}

export interface Service extends KubeObject {
  spec: Record<string, unknown>;
  status: { loadBalancer: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface CnpgCluster extends KubeObject {
  spec: { instances: number; [key: string]: unknown };
  status: {
    phase?: string; phaseReason?: string; instances?: number; readyInstances?: number; currentPrimary?: string; targetPrimary?: string;
    instanceNames?: string[]; instancesStatus?: Record<string, string[]>; conditions?: Condition[]; [key: string]: unknown;
  };
}

const CREATED = '2026-11-20T09:14:03Z';
const NOW = '2026-11-27T10:02:41Z';
let serial = 0;

function metadata(namespace: string, name: string, extra: Partial<Metadata> = {}): Metadata {
  serial += 1;
  return { name, namespace, uid: `3f1c2a${String(serial).padStart(2, '0')}-7d4e-4b8a-9c1f-5e6d7a8b9c0d`, resourceVersion: String(48_210 + serial), creationTimestamp: CREATED, ...extra };
}

function template(name: string, containers: Container[]): PodTemplate {
  return {
    metadata: { labels: { 'app.kubernetes.io/name': name } },
    spec: { containers, restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler' },
  };
}

export function container(name: string, image: string): Container {
  return {
    name, image, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 8000, name: 'http', protocol: 'TCP' }], resources: {},
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  };
}

/** A Deployment whose rollout of `image` has completed. */
export function deployment(namespace: string, name: string, options: { image: string; replicas?: number; containers?: Container[] }): Deployment {
  const replicas = options.replicas ?? 2;
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(namespace, name, { generation: 1, labels: { 'app.kubernetes.io/name': name }, annotations: { 'deployment.kubernetes.io/revision': '1' } }),
    spec: {
      replicas, selector: { matchLabels: { 'app.kubernetes.io/name': name } }, progressDeadlineSeconds: 600, revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: template(name, options.containers ?? [container(name, options.image)]),
    },
    status: { conditions: [] },
  };
  completeDeployment(d);
  return d;
}

/** kubectl set image: a new generation the controller has seen, one new replica so far. */
export function startDeploymentRollout(d: Deployment, image: string): void {
  const [first] = d.spec.template.spec.containers;
  if (first) first.image = image;
  d.metadata.generation = (d.metadata.generation ?? 1) + 1;
  d.status = {
    observedGeneration: d.metadata.generation, replicas: d.spec.replicas + 1, updatedReplicas: 1, readyReplicas: d.spec.replicas, availableReplicas: d.spec.replicas,
    unavailableReplicas: 1,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: NOW, lastTransitionTime: CREATED },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${d.metadata.name}-7c9d8f6b5" is progressing.`, lastUpdateTime: NOW, lastTransitionTime: NOW },
    ],
  };
}

/** What the controller reports once progressDeadlineSeconds passed without progress. */
export function exceedProgressDeadline(d: Deployment): void {
  d.status.conditions = d.status.conditions.filter((c) => c.type !== 'Progressing');
  d.status.conditions.push({
    type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${d.metadata.name}-7c9d8f6b5" has timed out progressing.`, lastUpdateTime: NOW, lastTransitionTime: NOW,
  });
}

export function completeDeployment(d: Deployment): void {
  const n = d.spec.replicas;
  d.status = {
    observedGeneration: d.metadata.generation, replicas: n, updatedReplicas: n, readyReplicas: n, availableReplicas: n,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: NOW, lastTransitionTime: CREATED },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${d.metadata.name}-7c9d8f6b5" has successfully progressed.`, lastUpdateTime: NOW, lastTransitionTime: CREATED },
    ],
  };
}

/** A StatefulSet at rest (RollingUpdate with the API server's default partition 0). */
export function statefulSet(namespace: string, name: string, options: { image: string; replicas?: number; partition?: number }): StatefulSet {
  const replicas = options.replicas ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(namespace, name, { generation: 1 }),
    spec: {
      replicas, serviceName: name, podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10, selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: options.partition ?? 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: template(name, [container(name, options.image)]),
    },
    status: {
      observedGeneration: 1, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas,
      currentRevision: `${name}-6b8f9c7d5`, updateRevision: `${name}-6b8f9c7d5`, collisionCount: 0,
    },
  };
}

/** A DaemonSet on `nodes` nodes, fully rolled out. */
export function daemonSet(namespace: string, name: string, options: { image: string; nodes?: number }): DaemonSet {
  const nodes = options.nodes ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: metadata(namespace, name, { generation: 1, annotations: { 'deprecated.daemonset.template.generation': '1' } }),
    spec: {
      revisionHistoryLimit: 10, selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      template: template(name, [container(name, options.image)]),
    },
    status: { observedGeneration: 1, currentNumberScheduled: nodes, desiredNumberScheduled: nodes, numberReady: nodes, numberAvailable: nodes, updatedNumberScheduled: nodes },
  };
}

/**
 * The pods a workload's controller runs from its current template, each container reporting the
 * image it pulled as `REPOSITORY@DIGEST` (containerd's imageID; `docker` gives dockershim's
 * docker-pullable:// form; `pending` containers have not started and have no imageID yet).
 */
export function podsOf(workload: Deployment | StatefulSet | DaemonSet, digest: string, options: { count?: number; imageID?: 'containerd' | 'docker' | 'pending'; hash?: string } = {}): Pod[] {
  const { name, namespace } = workload.metadata;
  const replicas = workload.spec.replicas;
  const count = options.count ?? (typeof replicas === 'number' ? replicas : 1);
  const hash = options.hash ?? '7c9d8f6b5';
  const { containers } = workload.spec.template.spec;
  return Array.from({ length: count }, (_, i) => {
    const podName = workload.kind === 'StatefulSet' ? `${name}-${i}` : `${name}-${hash}-${['x2k9p', 'm4q7z', 'b8t3w', 'r6n1c', 'h5v2d'][i % 5] ?? 'z'}${i >= 5 ? i : ''}`;
    const pending = options.imageID === 'pending';
    const statuses: ContainerStatus[] = containers.map((c) => {
      const repository = c.image.replace(/[:@][^/]*$/, '');
      const imageID = pending ? '' : options.imageID === 'docker' ? `docker-pullable://${repository}@${digest}` : `${repository}@${digest}`;
      return {
        name: c.name, image: c.image, imageID, ...(!pending && { containerID: `containerd://${'4f0c9e'.repeat(10)}${String(i).padStart(4, '0')}` }),
        ready: !pending, started: !pending, restartCount: 0,
        state: pending ? { waiting: { reason: 'ContainerCreating' } } : { running: { startedAt: NOW } }, lastState: {},
      };
    });
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...metadata(namespace, podName, { labels: { ...workload.spec.template.metadata.labels, 'pod-template-hash': hash } }) },
      spec: { ...workload.spec.template.spec, nodeName: 'coulombcore', serviceAccountName: 'default' },
      status: {
        phase: pending ? 'Pending' : 'Running', hostIP: '92.205.130.254', podIP: `10.42.0.${10 + i}`, qosClass: 'BestEffort', startTime: NOW,
        conditions: [{ type: 'Ready', status: pending ? 'False' : 'True', lastTransitionTime: NOW }], containerStatuses: statuses,
      },
    };
  });
}

/** A Secret with `values` (plain text here, base64 in `data` as the API serves it). */
export function secret(namespace: string, name: string, values: Record<string, string>, extra: { type?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(namespace, name, { ...(extra.labels && { labels: extra.labels }), ...(extra.annotations && { annotations: extra.annotations }) }),
    type: extra.type ?? 'Opaque',
    data: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  };
}

/** A LoadBalancer Service with its published ingress (IPs and/or hostnames). */
export function loadBalancerService(namespace: string, name: string, ingress: { ip?: string; hostname?: string }[]): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(namespace, name, { labels: { 'app.kubernetes.io/name': name } }),
    spec: {
      type: 'LoadBalancer', clusterIP: '10.43.12.7', clusterIPs: ['10.43.12.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'websecure', port: 443, protocol: 'TCP', targetPort: 'websecure', nodePort: 31443 }],
      selector: { 'app.kubernetes.io/name': name }, sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true,
    },
    status: { loadBalancer: { ingress: ingress.map((entry) => (entry.ip ? { ...entry, ipMode: 'VIP' } : entry)) } },
  };
}

/** A healthy CloudNativePG Cluster of `instances` instances, primary NAME-1. */
export function cnpgCluster(namespace: string, name: string, instances = 3): CnpgCluster {
  const names = Array.from({ length: instances }, (_, i) => `${name}-${i + 1}`);
  const primary = `${name}-1`;
  return {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: metadata(namespace, name, { generation: 1 }),
    spec: {
      instances, imageName: 'ghcr.io/cloudnative-pg/postgresql:16.4', primaryUpdateStrategy: 'unsupervised', primaryUpdateMethod: 'restart',
      storage: { size: '10Gi', resizeInUseVolumes: true }, enableSuperuserAccess: false, logLevel: 'info', maxSyncReplicas: 0, minSyncReplicas: 0,
      startDelay: 3600, stopDelay: 1800, switchoverDelay: 3600, smartShutdownTimeout: 180, bootstrap: { initdb: { database: 'app', owner: 'app' } },
    },
    status: {
      phase: 'Cluster in healthy state', instances, readyInstances: instances, currentPrimary: primary, targetPrimary: primary,
      currentPrimaryTimestamp: '2026-11-20T09:15:40.123456Z', targetPrimaryTimestamp: '2026-11-20T09:15:12.654321Z', latestGeneratedNode: instances,
      instanceNames: names, instancesStatus: { healthy: names }, timelineID: 1, image: 'ghcr.io/cloudnative-pg/postgresql:16.4',
      writeService: `${name}-rw`, readService: `${name}-r`, healthyPVC: names,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'ClusterIsReady', message: 'Cluster is Ready', lastTransitionTime: CREATED },
        { type: 'ContinuousArchiving', status: 'True', reason: 'ContinuousArchivingSuccess', message: 'Continuous archiving is working', lastTransitionTime: CREATED },
      ],
    },
  };
}

/** One replica down: fewer ready instances, the Ready condition false, the pod listed as failed. */
export function degradeCluster(c: CnpgCluster, ready: number): void {
  const names = c.status.instanceNames ?? [];
  c.status.readyInstances = ready;
  c.status.instancesStatus = { healthy: names.slice(0, ready), failed: names.slice(ready) };
  c.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: 'Cluster Is Not Ready', lastTransitionTime: NOW }];
}

/** What the operator reports between choosing a new primary and promoting it. */
export function startSwitchover(c: CnpgCluster, target: string): void {
  c.status.targetPrimary = target;
  c.status.phase = 'Switchover in progress';
  c.status.phaseReason = `Switching over to ${target}`;
}
