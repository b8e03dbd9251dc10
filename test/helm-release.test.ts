import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientNode } from '../src/kube/client-node.js';
import { helmReleaseSecret, type ReleaseOptions } from './peers/helm-objects.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';

/**
 * helm-release against the stand-in API server serving Helm 3 release Secrets built as Helm
 * builds them (real gzip and base64 of a real-shaped release record).
 */

// In the user-supplied values and the rendered manifest, as a real release holds its secrets.
const CANARY = 'canary-2c6f9a1e-helm-values-password';
const MANIFEST_CANARY = Buffer.from('canary-8d4b2e7a-manifest-secret').toString('base64');

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  await loadClientNode();
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
});

afterAll(async () => {
  await kube.close();
});

/** Revisions 1..n of a release in namespace inter-hub, the last with `last`'s options, the earlier superseded. */
function history(name: string, last: ReleaseOptions, earlier = 1): void {
  const common = {
    chart: 'inter-hub', chartVersion: '0.3.2',
    config: { image: { tag: '6455902' }, database: { password: CANARY }, ingress: { host: 'hub.coulomb.social' } },
    manifest: `---\n# Source: inter-hub/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: inter-hub-env\ndata:\n  SESSION_SECRET: ${MANIFEST_CANARY}\n`,
  };
  for (let revision = 1; revision <= earlier; revision++) {
    kube.put(helmReleaseSecret('inter-hub', name, revision, { ...common, status: revision === earlier && last.status !== 'deployed' ? 'deployed' : 'superseded', appVersion: '0ld5ha' }));
  }
  kube.put(helmReleaseSecret('inter-hub', name, earlier + 1, { ...common, appVersion: '6455902', ...last }));
}

function helmYaml(release: string, expectBlock = '', file = kubeconfig): string {
  return `
checks:
  - name: hub-helm
    type: helm-release
    kubeconfig: ${file}
    namespace: inter-hub
    release: ${release}
${expectBlock ? `    expect: ${expectBlock}` : ''}
`;
}

describe('helm-release', () => {
  it('deployed: reports revision, chart, app version and history, reading only metadata and the newest Secret', async () => {
    history('inter-hub', { status: 'deployed' }, 2);
    const before = kube.requests.length;
    const run = await runYaml(helmYaml('inter-hub'));
    expect(run.result).toMatchObject({ ok: true, message: 'revision 3 deployed (inter-hub-0.3.2, app 6455902)' });
    expect(run.result.observations).toMatchObject({
      namespace: 'inter-hub', release: 'inter-hub', revision: 3, status: 'deployed', chart: 'inter-hub', chartVersion: '0.3.2', appVersion: '6455902',
      description: 'Upgrade complete', deployedRevision: 3, history: [{ revision: 3, status: 'deployed' }, { revision: 2, status: 'superseded' }, { revision: 1, status: 'superseded' }],
      firstDeployed: '2026-06-14T09:12:44.301927113+02:00',
    });
    expect(kube.requests.slice(before)).toEqual([
      { path: '/api/v1/namespaces/inter-hub/secrets', search: '?labelSelector=owner%3Dhelm%2Cname%3Dinter-hub', metadataOnly: true },
      { path: '/api/v1/namespaces/inter-hub/secrets', search: '?labelSelector=owner%3Dhelm&fieldSelector=metadata.name%3Dsh.helm.release.v1.inter-hub.v3', metadataOnly: false },
    ]);
  });

  it('failed: reason rollout with Helm\'s description and the revision still deployed', async () => {
    history('broken', { status: 'failed', description: 'Upgrade "broken" failed: context deadline exceeded' });
    const run = await runYaml(helmYaml('broken'));
    expect(run.result).toMatchObject({ ok: false, reason: 'rollout', message: 'revision 2 failed: Upgrade "broken" failed: context deadline exceeded (revision 1 deployed)' });
    expect(run.result.observations).toMatchObject({ status: 'failed', deployedRevision: 1 });
  });

  it('pending-upgrade: in progress within the limit, stuck past it', async () => {
    history('upgrading', { status: 'pending-upgrade', lastDeployed: new Date(Date.now() - 90_000) });
    const fresh = await runYaml(helmYaml('upgrading'));
    expect(fresh.result).toMatchObject({ ok: false, reason: 'rollout' });
    expect(fresh.result.message).toMatch(/^revision 2 pending-upgrade for (8\d|9\d)s \(revision 1 deployed\)$/);
    expect(fresh.result.observations).toMatchObject({ stuck: false });

    history('stuck', { status: 'pending-upgrade', lastDeployed: new Date(Date.now() - 2 * 3_600_000) });
    const stuck = await runYaml(helmYaml('stuck', '{ pendingLimit: 15m }'));
    expect(stuck.result).toMatchObject({
      ok: false, reason: 'rollout',
      message: 'revision 2 stuck in pending-upgrade for 2h (limit 15m; revision 1 deployed): the helm process that started it is gone; helm rollback stuck or upgrade again',
    });
    expect(stuck.result.observations).toMatchObject({ status: 'pending-upgrade', stuck: true });
    expect(stuck.result.observations.pendingSeconds).toBeGreaterThanOrEqual(7200);
    // The limit decides: with a day's grace the same revision is merely in progress.
    expect((await runYaml(helmYaml('stuck', '{ pendingLimit: 24h }'))).result.message).toMatch(/^revision 2 pending-upgrade for 2h/);
  });

  it('app version and image tag against --release', async () => {
    history('released', { status: 'deployed' });
    const yaml = helmYaml('released', '{ appVersion: "{release}", chartVersion: 0.3.2, values: { image.tag: "{release}", ingress.host: hub.coulomb.social } }');
    const same = await runYaml(yaml, { release: '6455902' });
    expect(same.result).toMatchObject({ ok: true });
    expect(same.result.observations).toMatchObject({ values: { 'image.tag': '6455902', 'ingress.host': 'hub.coulomb.social' } });
    const other = await runYaml(yaml, { release: 'abc1234' });
    expect(other.result).toMatchObject({ ok: false, reason: 'assertion', message: 'revision 2: app version 6455902, expected abc1234; value image.tag is "6455902", expected "abc1234"' });
    const none = await runYaml(yaml);
    expect(none.result).toMatchObject({ ok: false, reason: 'config', message: 'expect.appVersion uses {release} but no release was given (driftwatch run/serve --release TAG)' });
    // A value the user did not set comes from the chart's values.yaml.
    const defaults = await runYaml(helmYaml('released', '{ values: { service.port: 8000, image.pullPolicy: Always, nothing.here: x } }'));
    expect(defaults.result).toMatchObject({ ok: false, message: 'revision 2: value image.pullPolicy is "IfNotPresent", expected "Always"; value nothing.here is not set, expected "x"' });
  });

  it('no release, other statuses, RBAC and bad config', async () => {
    expect((await runYaml(helmYaml('ghost'))).result).toMatchObject({ ok: false, reason: 'assertion', message: 'no Helm release ghost in namespace inter-hub (no Secret labelled owner=helm,name=ghost)' });
    history('leaving', { status: 'uninstalling' });
    expect((await runYaml(helmYaml('leaving'))).result).toMatchObject({ ok: false, reason: 'rollout', message: 'revision 2 is being uninstalled' });
    history('gone', { status: 'uninstalled', description: 'Uninstallation complete' });
    expect((await runYaml(helmYaml('gone'))).result).toMatchObject({ ok: false, reason: 'assertion', message: 'revision 2 is uninstalled, expected deployed: Uninstallation complete' });
    kube.addToken('no-secret-list', { deny: ['list secrets'] });
    const denied = await runYaml(helmYaml('inter-hub', '', await kube.writeKubeconfig({ token: 'no-secret-list' })));
    expect(denied.result).toMatchObject({ ok: false, reason: 'auth', message: 'forbidden: list secrets in namespace "inter-hub" (labelSelector owner=helm,name=inter-hub) (403)' });
    expect(() => parseChecks(helmYaml('Inter_Hub'))).toThrow(/checks\[0\]\.release: must be a Helm release name/);
    expect(() => parseChecks(helmYaml('x', '{ values: { "image tag": v1 } }'))).toThrow(/checks\[0\]\.expect\.values\.image tag: expected a values path like image\.tag/);
  });

  it('never lets the release\'s values, manifest or notes reach logs, results, debug steps or samples', async () => {
    const { log, lines } = memoryLogger();
    const outputs: string[] = [];
    for (const [release, block] of [['inter-hub', '{ values: { image.tag: "6455902" } }'], ['broken', ''], ['stuck', ''], ['released', '{ appVersion: v9, values: { database: x } }']] as const) {
      const run = await runYaml(helmYaml(release, block), { log, debug: true });
      outputs.push(JSON.stringify(run.result), JSON.stringify(run.samples), JSON.stringify(run.probeSamples()));
    }
    outputs.push(lines());
    const all = outputs.join('\n');
    expect(all).toContain('helm release');
    expect(all).toContain('"database":"(not a single value)"');
    for (const secret of [CANARY, MANIFEST_CANARY, 'kubectl get pods --namespace', 'templates/secret.yaml', 'test-connection']) expect(all).not.toContain(secret);
  });
});
