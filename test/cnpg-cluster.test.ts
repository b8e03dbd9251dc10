import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runYaml } from './support/checks.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { cnpgCluster, degradeCluster, startSwitchover } from './peers/kube-objects.js';

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
});

afterAll(async () => {
  await kube.close();
});

function clusterYaml(cluster: string, file = kubeconfig): string {
  return `
defaults:
  kubeconfig: ${file}
checks:
  - { name: db-cluster, type: cnpg-cluster, namespace: databases, cluster: ${cluster}, timeout: 2s }
`;
}

describe('cnpg-cluster', () => {
  it('passes a healthy cluster and reports phase, instances and primaries', async () => {
    kube.put(cnpgCluster('databases', 'net-kingdom-pg', 3));
    const run = await runYaml(clusterYaml('net-kingdom-pg'));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations).toMatchObject({
      phase: 'Cluster in healthy state', instances: 3, currentInstances: 3, readyInstances: 3,
      currentPrimary: 'net-kingdom-pg-1', targetPrimary: 'net-kingdom-pg-1', switchover: false, image: 'ghcr.io/cloudnative-pg/postgresql:16.4',
    });
    expect(run.samples).toEqual([
      { name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'desired' }, value: 3 },
      { name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'ready' }, value: 3 },
    ]);
  });

  it('fails a degraded cluster with the counts', async () => {
    const c = kube.put(cnpgCluster('databases', 'degraded-pg', 3));
    degradeCluster(c, 2);
    const run = await runYaml(clusterYaml('degraded-pg'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'cluster degraded: 2 of 3 instances ready (phase "Cluster in healthy state")' });
    expect(run.samples).toContainEqual({ name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'ready' }, value: 2 });

    // While the operator recreates the replica, the same shortfall is a rollout.
    c.status.phase = 'Creating a new replica';
    expect((await runYaml(clusterYaml('degraded-pg'))).result).toMatchObject({ ok: false, reason: 'rollout', message: 'cluster degraded: 2 of 3 instances ready (phase "Creating a new replica")' });
  });

  it('reports a switchover in progress as a rollout, then passes once the primary moved', async () => {
    const c = kube.put(cnpgCluster('databases', 'moving-pg', 3));
    startSwitchover(c, 'moving-pg-2');
    const run = await runYaml(clusterYaml('moving-pg'));
    expect(run.result).toMatchObject({ ok: false, reason: 'rollout', message: 'switchover in progress: primary moving from moving-pg-1 to moving-pg-2 (phase "Switchover in progress")' });
    expect(run.result.observations).toMatchObject({ switchover: true, currentPrimary: 'moving-pg-1', targetPrimary: 'moving-pg-2' });

    c.status.currentPrimary = 'moving-pg-2';
    c.status.phase = 'Cluster in healthy state';
    delete c.status.phaseReason;
    expect((await runYaml(clusterYaml('moving-pg'))).result).toMatchObject({ ok: true });
  });

  it('reports a failover while the operator picks a new primary', async () => {
    const c = kube.put(cnpgCluster('databases', 'failing-pg', 2));
    c.status.targetPrimary = 'pending';
    c.status.phase = 'Failing over';
    const run = await runYaml(clusterYaml('failing-pg'));
    expect(run.result).toMatchObject({ ok: false, reason: 'rollout', message: 'failover in progress: primary failing-pg-1 is being replaced (phase "Failing over")' });
  });

  it('fails a phase that needs someone to act, with its reason', async () => {
    const c = kube.put(cnpgCluster('databases', 'stuck-pg', 1));
    c.status.phase = 'Cluster is unrecoverable and needs manual intervention';
    c.status.phaseReason = 'No primary instance available';
    const run = await runYaml(clusterYaml('stuck-pg'));
    expect(run.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: 'phase "Cluster is unrecoverable and needs manual intervention": No primary instance available, expected "Cluster in healthy state"',
    });
  });

  it('404 for a missing cluster, and a clear message when the CRD is not installed', async () => {
    expect((await runYaml(clusterYaml('ghost-pg'))).result).toMatchObject({ ok: false, reason: 'assertion', message: 'CNPG cluster ghost-pg not found in namespace databases' });
    const bare = await startKubeApi({ cnpg: false });
    try {
      const run = await runYaml(clusterYaml('net-kingdom-pg', await bare.writeKubeconfig()));
      expect(run.result).toMatchObject({
        ok: false,
        reason: 'assertion',
        message: 'CNPG cluster net-kingdom-pg not found in namespace databases: the API server does not serve clusters.postgresql.cnpg.io/v1 (is the CRD installed?)',
      });
    } finally {
      await bare.close();
    }
  });

  it('403 names the CRD resource RBAC must allow', async () => {
    kube.addToken('no-cnpg', { deny: ['clusters.postgresql.cnpg.io'] });
    const run = await runYaml(clusterYaml('net-kingdom-pg', await kube.writeKubeconfig({ token: 'no-cnpg' })));
    expect(run.result).toMatchObject({ ok: false, reason: 'auth', message: 'forbidden: get clusters.postgresql.cnpg.io "net-kingdom-pg" in namespace "databases" (403)' });
  });
});
