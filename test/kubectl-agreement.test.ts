import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientNode } from '../src/kube/client-node.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import {
  completeDeployment, daemonSet, deployment, exceedProgressDeadline, startDeploymentRollout, statefulSet,
  type DaemonSet, type Deployment, type KubeObject, type StatefulSet,
} from './peers/kube-objects.js';
import { runYaml } from './support/checks.js';
import { readServiceEndpoints } from '../src/kube/endpoint-slices.js';
import { createServices } from '../src/runner/services.js';
import { endpointSlice, podEndpoint } from './peers/kube-endpoints.js';
import { KUBECTL_VERSION, kubectlBinary } from './support/tools.js';

/**
 * kubectl is a real Kubernetes client: pointed at the stand-in API server through a kubeconfig,
 * `kubectl get` and `kubectl rollout status --watch=false` must work, and kubectl's rollout
 * verdict must be driftwatch's on every workload below. Verdicts, not messages, are compared
 * (kubectl's wording differs between 1.20 and 1.32): exit 0 with "successfully rolled out" /
 * "rolling update complete" / "partitioned roll out complete" is complete, exit 0 with
 * "Waiting ..." is progressing (with --watch=false kubectl exits 0 either way), a non-zero exit
 * with "exceeded its progress deadline" is stuck, one with "only available for RollingUpdate"
 * is unsupported.
 */

const run = promisify(execFile);
const NS = 'agreement';
const IMAGE = 'gitea.coulomb.social/coulomb/inter-hub';
type Verdict = 'complete' | 'progressing' | 'stuck' | 'unsupported';

/** One workload per row: how it is made, and the verdict both must give. */
const ROWS: [string, () => Deployment | StatefulSet | DaemonSet, Verdict][] = [
  ['deployment rolled out', () => deployment(NS, 'd-done', { image: `${IMAGE}:a`, replicas: 2 }), 'complete'],
  ['deployment with 1 of 3 new replicas', () => tap(deployment(NS, 'd-moving', { image: `${IMAGE}:a`, replicas: 3 }), (d) => {
    startDeploymentRollout(d, `${IMAGE}:b`);
  }), 'progressing'],
  ['deployment with old replicas pending termination', () => tap(deployment(NS, 'd-draining', { image: `${IMAGE}:a`, replicas: 3 }), (d) => {
    startDeploymentRollout(d, `${IMAGE}:b`);
    Object.assign(d.status, { replicas: 4, updatedReplicas: 3 });
  }), 'progressing'],
  ['deployment with updated replicas not yet available', () => tap(deployment(NS, 'd-unavailable', { image: `${IMAGE}:a`, replicas: 3 }), (d) => Object.assign(d.status, { availableReplicas: 2, unavailableReplicas: 1 })), 'progressing'],
  ['deployment stuck past progressDeadlineSeconds', () => tap(deployment(NS, 'd-stuck', { image: `${IMAGE}:a`, replicas: 2 }), (d) => {
    startDeploymentRollout(d, `${IMAGE}:b`);
    exceedProgressDeadline(d);
  }), 'stuck'],
  ['deployment with a generation not yet observed', () => tap(deployment(NS, 'd-old-generation', { image: `${IMAGE}:a` }), (d) => (d.metadata.generation = 2)), 'progressing'],
  ['deployment past its deadline, then changed again (not yet observed)', () => tap(deployment(NS, 'd-stuck-changed', { image: `${IMAGE}:a`, replicas: 2 }), (d) => {
    startDeploymentRollout(d, `${IMAGE}:b`);
    exceedProgressDeadline(d);
    d.metadata.generation = (d.metadata.generation ?? 1) + 1;
  }), 'progressing'],
  ['paused deployment with a changed template', () => tap(deployment(NS, 'd-paused', { image: `${IMAGE}:a`, replicas: 2 }), (d) => {
    d.spec.paused = true;
    d.metadata.generation = 2;
    Object.assign(d.status, { observedGeneration: 2, updatedReplicas: 0 });
    d.status.conditions = d.status.conditions.map((c) => (c.type === 'Progressing' ? { ...c, status: 'Unknown' as const, reason: 'DeploymentPaused', message: 'Deployment is paused' } : c));
  }), 'progressing'],
  ['deployment scaled to zero', () => tap(deployment(NS, 'd-zero', { image: `${IMAGE}:a`, replicas: 0 }), completeDeployment), 'complete'],
  ['statefulset rolled out', () => statefulSet(NS, 's-done', { image: `${IMAGE}:a`, replicas: 3 }), 'complete'],
  ['statefulset with pods not ready', () => tap(statefulSet(NS, 's-not-ready', { image: `${IMAGE}:a`, replicas: 3 }), (s) => (s.status.readyReplicas = 2)), 'progressing'],
  ['statefulset never observed (observedGeneration 0)', () => tap(statefulSet(NS, 's-unobserved', { image: `${IMAGE}:a`, replicas: 1 }), (s) => delete s.status.observedGeneration), 'progressing'],
  ['partitioned statefulset, 1 of 2 pods above the partition updated', () => tap(statefulSet(NS, 's-partition-moving', { image: `${IMAGE}:a`, replicas: 4, partition: 2 }), (s) => {
    s.metadata.generation = 2;
    Object.assign(s.status, { observedGeneration: 2, updatedReplicas: 1, updateRevision: 's-partition-moving-7f6e5d4c3' });
  }), 'progressing'],
  ['partitioned statefulset, every pod above the partition updated', () => tap(statefulSet(NS, 's-partition-done', { image: `${IMAGE}:a`, replicas: 4, partition: 2 }), (s) => {
    s.metadata.generation = 2;
    Object.assign(s.status, { observedGeneration: 2, updatedReplicas: 2, currentReplicas: 2, updateRevision: 's-partition-done-7f6e5d4c3' });
  }), 'complete'],
  ['statefulset mid rolling update (partition 0)', () => tap(statefulSet(NS, 's-rolling', { image: `${IMAGE}:a`, replicas: 3 }), (s) => {
    s.metadata.generation = 2;
    Object.assign(s.status, { observedGeneration: 2, updatedReplicas: 1, currentReplicas: 2, updateRevision: 's-rolling-7f6e5d4c3' });
  }), 'progressing'],
  ['statefulset with OnDelete updates', () => tap(statefulSet(NS, 's-ondelete', { image: `${IMAGE}:a` }), (s) => (s.spec.updateStrategy = { type: 'OnDelete' })), 'unsupported'],
  ['daemonset rolled out', () => daemonSet(NS, 'ds-done', { image: `${IMAGE}:a`, nodes: 3 }), 'complete'],
  ['daemonset with 1 of 3 nodes updated', () => tap(daemonSet(NS, 'ds-moving', { image: `${IMAGE}:a`, nodes: 3 }), (d) => Object.assign(d.status, { updatedNumberScheduled: 1 })), 'progressing'],
  ['daemonset with updated pods not yet available', () => tap(daemonSet(NS, 'ds-unavailable', { image: `${IMAGE}:a`, nodes: 3 }), (d) => Object.assign(d.status, { numberAvailable: 2, numberUnavailable: 1 })), 'progressing'],
  ['daemonset with a generation not yet observed', () => tap(daemonSet(NS, 'ds-old-generation', { image: `${IMAGE}:a` }), (d) => (d.metadata.generation = 3)), 'progressing'],
  ['daemonset with OnDelete updates', () => tap(daemonSet(NS, 'ds-ondelete', { image: `${IMAGE}:a` }), (d) => (d.spec.updateStrategy = { type: 'OnDelete' })), 'unsupported'],
];

function tap<T>(value: T, change: (value: T) => unknown): T {
  change(value);
  return value;
}

/**
 * kubectl 1.35 lists through a streaming watch by default (WatchListClient: a watch with
 * sendInitialEvents=true whose initial state ends with a BOOKMARK annotated
 * k8s.io/initial-events-end); the stand-in serves it. With the feature gate off
 * (KUBE_FEATURE_WatchListClient=false) kubectl lists first and then watches, as against API
 * servers without WatchList: the table test asks kubectl both ways.
 */
const KUBECTL_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };
const LIST_THEN_WATCH = { ...KUBECTL_ENV, KUBE_FEATURE_WatchListClient: 'false' };

let kube: KubeApi;
let kubeconfig: string;
let cacheDir: string;

beforeAll(async () => {
  await loadClientNode();
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
  // kubectl caches discovery per server; a fresh folder per run keeps the runs apart.
  cacheDir = await mkdtemp(join(tmpdir(), 'driftwatch-kubectl-cache-'));
});

afterAll(async () => {
  await kube.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function kubectlWith(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(kubectlBinary(), ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, '--request-timeout=10s', ...args], { timeout: 30_000, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    // execFile rejects with the exit code and both outputs on a non-zero exit.
    if (err === null || typeof err !== 'object' || !('code' in err) || typeof err.code !== 'number') throw err;
    const text = (key: string) => (key in err ? String((err as Record<string, unknown>)[key]) : '');
    return { code: err.code, stdout: text('stdout'), stderr: text('stderr') };
  }
}

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectlWith(KUBECTL_ENV, args);
}

/** The verdict, or what kubectl said when it is none of the four. */
function kubectlVerdict(result: { code: number; stdout: string; stderr: string }): string {
  const text = `${result.stdout}\n${result.stderr}`;
  if (result.code === 0 && /successfully rolled out|rolling update complete|partitioned roll out complete/i.test(result.stdout)) return 'complete';
  if (result.code === 0 && /^Waiting for/im.test(result.stdout)) return 'progressing';
  if (result.code !== 0 && /exceeded its progress deadline/.test(text)) return 'stuck';
  if (result.code !== 0 && /only available for RollingUpdate/i.test(text)) return 'unsupported';
  return `unrecognised (exit ${result.code}): ${text.trim()}`;
}

function resourceOf(object: KubeObject): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`;
}

describe('kubectl against the stand-in API server', () => {
  it(`kubectl is the pinned ${KUBECTL_VERSION} (scripts/test-deps.sh puts it in .tools/)`, async () => {
    const version = await kubectl('version', '--client', '-o', 'json');
    expect(version.code).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ clientVersion: { gitVersion: `v${KUBECTL_VERSION}` } });
  });

  it('kubectl get reads objects and lists through discovery, short names included', async () => {
    kube.put(deployment(NS, 'get-me', { image: `${IMAGE}:6455902`, replicas: 2 }));
    kube.put(statefulSet(NS, 'get-me-too', { image: `${IMAGE}:6455902` }));
    const one = await kubectl('get', 'deploy', 'get-me', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    expect(one).toMatchObject({ code: 0, stdout: `${IMAGE}:6455902` });
    const listed = await kubectl('get', 'deployments,sts', '-n', NS, '-o', 'name');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['deployment.apps/get-me', 'statefulset.apps/get-me-too']));
    const missing = await kubectl('get', 'deployment', 'nope', '-n', NS);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('deployments.apps "nope" not found');
  });

  it(`kubectl rollout status and driftwatch agree on all ${ROWS.length} workloads`, { timeout: 120_000 }, async () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(12);
    const objects = ROWS.map(([, make]) => kube.put(make()));
    const rows: { name: string; expected: Verdict; kubectl: string; listThenWatch: string; driftwatch: string; message: string }[] = [];
    const streamed = kube.requests.length;
    for (const [index, [name, , expected]] of ROWS.entries()) {
      const object = objects[index]!;
      const args = ['rollout', 'status', resourceOf(object), '-n', NS, '--watch=false'];
      const status = await kubectl(...args);
      const listed = await kubectlWith(LIST_THEN_WATCH, args);
      const ran = await runYaml(`checks:\n  - { name: agree, type: k8s-rollout, kubeconfig: ${kubeconfig}, namespace: ${NS}, resource: ${resourceOf(object)} }\n`);
      rows.push({ name, expected, kubectl: kubectlVerdict(status), listThenWatch: kubectlVerdict(listed), driftwatch: String(ran.result.observations.state), message: ran.result.message });
    }
    const table = rows.map((r) => `${r.name}: expected ${r.expected}, kubectl ${r.kubectl} (list then watch: ${r.listThenWatch}), driftwatch ${r.driftwatch} (${r.message})`).join('\n');
    expect(rows.map((r) => r.kubectl), table).toEqual(rows.map((r) => r.expected));
    expect(rows.map((r) => r.listThenWatch), table).toEqual(rows.map((r) => r.expected));
    expect(rows.map((r) => r.driftwatch), table).toEqual(rows.map((r) => r.expected));
    // kubectl 1.35 did stream its lists (the default this test runs first).
    expect(kube.requests.slice(streamed).filter((r) => r.search.includes('sendInitialEvents=true')).length).toBeGreaterThanOrEqual(ROWS.length);
  });

  it('kubectl get endpointslices and driftwatch read the same endpoints of a Service', async () => {
    kube.put(
      endpointSlice(NS, 'web', { name: 'http', port: 8080 }, [
        podEndpoint(NS, 'web-7c9d-a1', '10.42.0.11', 'n1'),
        podEndpoint(NS, 'web-5f1a-x2', '10.42.0.17', 'n2'),
        podEndpoint(NS, 'web-5f1a-q7', '10.42.0.23', 'n2', 'terminating'),
        podEndpoint(NS, 'web-7c9d-z0', '10.42.0.31', 'n3', 'not-ready'),
      ]),
    );
    const jsonpath = '{range .items[*].endpoints[*]}{.targetRef.name} {.addresses[0]} {.nodeName} {.conditions.ready} {.conditions.terminating}{"\\n"}{end}';
    const listed = await kubectl('get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=web', '-o', `jsonpath=${jsonpath}`);
    expect(listed.code, listed.stderr).toBe(0);
    const byKubectl = listed.stdout.trim().split('\n').sort();
    const { kube: clients } = createServices({});
    const read = await readServiceEndpoints(clients, { namespace: NS, service: 'web', kubeconfig }, { signal: AbortSignal.timeout(10_000), redact: () => undefined });
    const byDriftwatch = read.map((e) => `${e.pod ?? ''} ${e.address} ${e.node ?? ''} ${e.ready} ${e.terminating}`).sort();
    expect(byKubectl).toHaveLength(4);
    expect(byDriftwatch).toEqual(byKubectl);
    expect(read.every((e) => e.port === 8080)).toBe(true);
  });
});
