import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/problem.js';
import { runCheck } from '../src/runner/runner.js';
import { createServices } from '../src/runner/services.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { completeDeployment, container, daemonSet, deployment, exceedProgressDeadline, startDeploymentRollout, statefulSet } from './peers/kube-objects.js';
import { loadClientNode } from '../src/kube/client-node.js';

// @kubernetes/client-node loads on first use (as the daemon preloads it): not inside a test's timeout.
beforeAll(async () => {
  await loadClientNode();
});

const REPO = 'gitea.coulomb.social/coulomb/inter-hub';

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
});

afterAll(async () => {
  await kube.close();
});

function rolloutYaml(resource: string, extra = '', file = kubeconfig): string {
  return `
checks:
  - name: hub-rollout
    type: k8s-rollout
    kubeconfig: ${file}
    namespace: inter-hub
    resource: ${resource}
    timeout: 2s
${extra}`;
}

function sample(run: Awaited<ReturnType<typeof runYaml>>, name: string, state?: string): number | undefined {
  return run.samples.find((s) => s.name === name && (state === undefined || s.labels?.state === state))?.value;
}

describe('k8s-rollout through a kubeconfig file', () => {
  it('passes a completed Deployment rollout on the expected image and exports replicas and image match', async () => {
    kube.put(deployment('inter-hub', 'hub', { image: `${REPO}:abc123`, replicas: 2 }));
    const run = await runYaml(rolloutYaml('deployment/hub', `    expect: { image: ${REPO}, tag: abc123 }`));
    expect(run.result).toMatchObject({ ok: true, message: 'ok' });
    expect(run.result.observations).toMatchObject({
      kind: 'deployment', state: 'complete', generation: 1, observedGeneration: 1,
      replicas: { desired: 2, updated: 2, ready: 2, available: 2 },
      containers: [{ name: 'hub', image: `${REPO}:abc123` }],
      image: { expected: `${REPO}:abc123`, running: [`${REPO}:abc123`], match: true },
    });
    expect(run.result.observations.conditions).toContainEqual(expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetAvailable' }));
    expect(sample(run, 'driftwatch_k8s_rollout_replicas', 'desired')).toBe(2);
    expect(sample(run, 'driftwatch_k8s_rollout_replicas', 'available')).toBe(2);
    expect(sample(run, 'driftwatch_k8s_image_match')).toBe(1);
  });

  it('reports a rollout in progress with reason rollout, then passes once the controller finishes', async () => {
    const d = kube.put(deployment('inter-hub', 'moving', { image: `${REPO}:old`, replicas: 3 }));
    startDeploymentRollout(d, `${REPO}:new`);
    const yaml = rolloutYaml('deployment/moving', `    expect: { image: ${REPO}, tag: new }`);
    const during = await runYaml(yaml);
    expect(during.result).toMatchObject({ ok: false, reason: 'rollout', message: 'rollout in progress: 1 out of 3 new replicas have been updated' });
    expect(sample(during, 'driftwatch_k8s_rollout_replicas', 'updated')).toBe(1);
    expect(sample(during, 'driftwatch_k8s_image_match')).toBe(1);

    d.status.updatedReplicas = 3;
    const draining = await runYaml(yaml);
    expect(draining.result).toMatchObject({ ok: false, reason: 'rollout', message: 'rollout in progress: 1 old replicas are pending termination' });

    completeDeployment(d);
    expect((await runYaml(yaml)).result).toMatchObject({ ok: true });
  });

  it('waits for the controller to observe a new generation', async () => {
    const d = kube.put(deployment('inter-hub', 'unobserved', { image: `${REPO}:a` }));
    d.metadata.generation = 2;
    const run = await runYaml(rolloutYaml('deploy/unobserved'));
    expect(run.result).toMatchObject({ ok: false, reason: 'rollout', message: 'waiting for the deployment spec update to be observed' });
    expect(run.result.observations).toMatchObject({ generation: 2, observedGeneration: 1 });
  });

  it('fails a rollout stuck past its progress deadline', async () => {
    const d = kube.put(deployment('inter-hub', 'stuck', { image: `${REPO}:a`, replicas: 2 }));
    startDeploymentRollout(d, `${REPO}:b`);
    exceedProgressDeadline(d);
    const run = await runYaml(rolloutYaml('deployment/stuck'));
    expect(run.result.ok).toBe(false);
    expect(run.result.reason).toBe('rollout');
    expect(run.result.message).toMatch(/^rollout stuck: progress deadline exceeded \(ReplicaSet "stuck-\w+" has timed out progressing\.\)$/);
    expect(run.result.observations).toMatchObject({ state: 'stuck' });
  });

  it('fails a finished rollout of the wrong image with reason assertion, naming running and expected images', async () => {
    kube.put(deployment('inter-hub', 'stale', { image: `${REPO}:0ld5ha` }));
    const run = await runYaml(rolloutYaml('deployment/stale', `    expect: { image: ${REPO}, tag: abc123 }`));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: `image ${REPO}:0ld5ha running, expected ${REPO}:abc123 (deployment stale)` });
    expect(sample(run, 'driftwatch_k8s_image_match')).toBe(0);
  });

  it('checks the named container of a multi-container pod and reports a wrong repository', async () => {
    kube.put(deployment('inter-hub', 'sidecar', { image: 'x', containers: [container('proxy', 'docker.io/library/nginx:1.27'), container('hub', `${REPO}:abc123`)] }));
    const ok = await runYaml(rolloutYaml('deployment/sidecar', `    container: hub\n    expect: { image: ${REPO}, tag: abc123 }`));
    expect(ok.result.ok).toBe(true);
    const wrong = await runYaml(rolloutYaml('deployment/sidecar', '    container: proxy\n    expect: { image: nginx, tag: "1.26" }'));
    expect(wrong.result).toMatchObject({ ok: false, reason: 'assertion', message: 'image docker.io/library/nginx:1.27 running, expected nginx:1.26 (deployment sidecar)' });
    const missing = await runYaml(rolloutYaml('deployment/sidecar', '    container: worker\n    expect: { tag: "1" }'));
    expect(missing.result).toMatchObject({ ok: false, reason: 'assertion', message: 'container worker not found in deployment sidecar (containers: proxy=docker.io/library/nginx:1.27, hub=gitea.coulomb.social/coulomb/inter-hub:abc123)' });
  });

  it('expects the release under verification with tag: release', async () => {
    kube.put(deployment('inter-hub', 'released', { image: `${REPO}:abc123` }));
    const yaml = rolloutYaml('deployment/released', `    expect: { image: ${REPO}, tag: release }`);
    const matching = await runYaml(yaml, { release: 'abc123' });
    expect(matching.result).toMatchObject({ ok: true });
    expect(matching.result.observations).toMatchObject({ image: { expected: `${REPO}:abc123`, match: true } });

    const other = await runYaml(yaml, { release: 'def456' });
    expect(other.result).toMatchObject({ ok: false, reason: 'assertion', message: `image ${REPO}:abc123 running, expected ${REPO}:def456 (deployment released)` });

    const none = await runYaml(yaml);
    expect(none.result).toMatchObject({ ok: false, reason: 'config', message: 'expect.tag is "release" but no release was given (driftwatch run/serve --release TAG)' });
  });

  it('judges a partitioned StatefulSet rollout like kubectl: updated >= replicas - partition', async () => {
    const s = kube.put(statefulSet('inter-hub', 'db', { image: `${REPO}:a`, replicas: 4, partition: 2 }));
    s.metadata.generation = 2;
    s.status = { ...s.status, observedGeneration: 2, updatedReplicas: 1, updateRevision: 'db-7f6e5d4c3' };
    const partial = await runYaml(rolloutYaml('statefulset/db'));
    expect(partial.result).toMatchObject({ ok: false, reason: 'rollout', message: 'rollout in progress: partitioned roll out, 1 out of 2 new pods have been updated' });
    s.status.updatedReplicas = 2;
    const done = await runYaml(rolloutYaml('sts/db'));
    expect(done.result).toMatchObject({ ok: true });
    expect(done.result.observations).toMatchObject({ kind: 'statefulset', replicas: { desired: 4, updated: 2, ready: 4, available: 4 } });

    s.spec.updateStrategy = { type: 'OnDelete' };
    const onDelete = await runYaml(rolloutYaml('statefulset/db'));
    expect(onDelete.result).toMatchObject({ ok: false, reason: 'config', message: 'rollout status is only available for the RollingUpdate strategy (this statefulset uses OnDelete)' });
  });

  it('judges a DaemonSet by desired, updated and available pods', async () => {
    const ds = kube.put(daemonSet('inter-hub', 'agent', { image: `${REPO}:a`, nodes: 3 }));
    ds.status.numberAvailable = 2;
    const run = await runYaml(rolloutYaml('daemonset/agent'));
    expect(run.result).toMatchObject({ ok: false, reason: 'rollout', message: 'rollout in progress: 2 of 3 updated pods are available' });
    expect(sample(run, 'driftwatch_k8s_rollout_replicas', 'desired')).toBe(3);
    ds.status.numberAvailable = 3;
    expect((await runYaml(rolloutYaml('ds/agent'))).result.ok).toBe(true);
  });

  it('takes kubeconfig and context from the file defaults', async () => {
    kube.put(deployment('inter-hub', 'ctx', { image: `${REPO}:a` }));
    const file = await kube.writeKubeconfig({ context: 'stale', token: 'revoked-token', extraContexts: [{ name: 'prod', token: kube.token }] });
    const body = (context: string) => `
defaults:
  kubeconfig: ${file}
  context: ${context}
checks:
  - { name: ctx, type: k8s-rollout, namespace: inter-hub, resource: deployment/ctx }
`;
    expect((await runYaml(body('prod'))).result).toMatchObject({ ok: true });
    expect((await runYaml(body('stale'))).result).toMatchObject({ ok: false, reason: 'auth' });
    expect((await runYaml(body('nope'))).result).toMatchObject({ ok: false, reason: 'config', message: `kubeconfig ${file} context nope: no context "nope" (contexts: stale, prod)` });
  });
});

describe('k8s-rollout through the in-cluster service account', () => {
  it('reads the token, CA and API address the way a pod does', async () => {
    kube.put(deployment('inter-hub', 'pod-view', { image: `${REPO}:abc123` }));
    const { pathPrefix, env } = await kube.writeInCluster();
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
    process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
    try {
      const [check] = parseChecks(`
checks:
  - { name: in-cluster, type: k8s-rollout, namespace: inter-hub, resource: deployment/pod-view, expect: { image: "${REPO}", tag: release } }
`);
      const services = createServices({ release: 'abc123', kube: { inClusterPathPrefix: pathPrefix } });
      const run = await runCheck(check!.bound, { log: memoryLogger().log, services, debug: true });
      expect(run.result).toMatchObject({ ok: true });
      const request = run.result.steps?.find((step) => step.step === 'kube request');
      expect(request?.data).toMatchObject({ source: 'in-cluster service account', path: '/apis/apps/v1/namespaces/inter-hub/deployments/pod-view' });
    } finally {
      restoreEnv('KUBERNETES_SERVICE_HOST', saved.host);
      restoreEnv('KUBERNETES_SERVICE_PORT', saved.port);
    }
  });
});

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, key);
  else process.env[key] = value;
}

describe('k8s-rollout failures from the API server', () => {
  it('401: a token the API server does not know', async () => {
    const file = await kube.writeKubeconfig({ token: 'not-a-real-token' });
    const run = await runYaml(rolloutYaml('deployment/hub', '', file));
    expect(run.result).toMatchObject({ ok: false, reason: 'auth' });
    expect(run.result.message).toBe(`unauthorized: get deployments.apps "hub" in namespace "inter-hub" (401): the API server did not accept the credentials of kubeconfig ${file}`);
  });

  it('403: names the RBAC verb and resource that was refused', async () => {
    kube.addToken('no-apps', { deny: ['deployments.apps'] });
    const file = await kube.writeKubeconfig({ token: 'no-apps' });
    const run = await runYaml(rolloutYaml('deployment/hub', '', file));
    expect(run.result).toMatchObject({ ok: false, reason: 'auth', message: 'forbidden: get deployments.apps "hub" in namespace "inter-hub" (403)' });
    expect(run.samples).toEqual([]);
  });

  it('404: the workload does not exist', async () => {
    const run = await runYaml(rolloutYaml('deployment/ghost'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'deployment ghost not found in namespace inter-hub' });
  });

  it('500: the API server failed', async () => {
    kube.failWith = 500;
    try {
      const run = await runYaml(rolloutYaml('deployment/hub'));
      expect(run.result).toMatchObject({ ok: false, reason: 'error', message: 'Kubernetes API answered 500 to get deployments.apps "hub" in namespace "inter-hub": Internal error occurred: etcdserver: request timed out' });
    } finally {
      kube.failWith = undefined;
    }
  });

  it('a hanging API server times out within the check timeout', async () => {
    kube.hang = true;
    try {
      const run = await runYaml(rolloutYaml('deployment/hub').replace('timeout: 2s', 'timeout: 500ms'));
      expect(run.result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 500ms' });
      expect(run.result.durationMs).toBeLessThan(5000);
    } finally {
      kube.hang = false;
    }
  });

  it('connect: nothing listens at the server address', async () => {
    const gone = await startKubeApi();
    const goneFile = await kube.writeKubeconfig();
    await gone.close();
    await writeFile(goneFile, (await readFile(goneFile, 'utf8')).replace(`127.0.0.1:${kube.port}`, `127.0.0.1:${gone.port}`));
    const run = await runYaml(rolloutYaml('deployment/hub', '', goneFile));
    expect(run.result).toMatchObject({ ok: false, reason: 'connect' });
  });

  it('config: an unreadable kubeconfig, and bad resource keys rejected at load', async () => {
    const run = await runYaml(rolloutYaml('deployment/hub', '', '/nonexistent/kubeconfig'));
    expect(run.result).toMatchObject({ ok: false, reason: 'config', message: 'kubeconfig /nonexistent/kubeconfig cannot be read (ENOENT)' });
    expect(() => parseChecks(rolloutYaml('pod/hub'))).toThrow(ConfigError);
    expect(() => parseChecks(rolloutYaml('pod/hub'))).toThrow(/checks\[0\]\.resource: must be KIND\/NAME with KIND deployment, statefulset or daemonset/);
    expect(() => parseChecks(rolloutYaml('deployment/hub', `    expect: { image: "${REPO}:v1", tag: v2 }`))).toThrow(/checks\[0\]\.expect\.image: give the tag in tag/);
  });
});
