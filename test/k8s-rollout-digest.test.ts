import { mkdtemp, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTypes } from '../src/checks/registry.js';
import { loadChecks } from '../src/config/load.js';
import { loadClientNode } from '../src/kube/client-node.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { completeDeployment, deployment, podsOf, startDeploymentRollout, statefulSet, type KubeObject } from './peers/kube-objects.js';
import { startRegistry, type RegistryPeer } from './peers/registry.js';
import { runCli } from './support/cli.js';
import { memoryLogger, runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * k8s-rollout expect.digestFrom: the pods' running imageID digests (stand-in API server) against
 * the digest a real registry (docker-registry, htpasswd) serves for the oci-image check's tag now.
 */

const HOSTNAME = 'registry.driftwatch.test';
const REPO = 'coulomb/inter-hub';
const CANARY = 'canary-3b8e1d4f-digest-registry-password';

const peers = new PeerSet();
let certs: Certificates;
let registry: RegistryPeer;
let kube: KubeApi;
let kubeconfig: string;
let dir: string;
let image: string;

beforeAll(async () => {
  await loadClientNode();
  certs = await peers.start(mintCertificates(HOSTNAME));
  [registry, kube] = await Promise.all([peers.start(startRegistry(certs, { htpasswd: { tegwick: CANARY } })), peers.start(startKubeApi())]);
  kubeconfig = await kube.writeKubeconfig();
  image = `${registry.host}/${REPO}`;
  // Inside the certificates' folder, which closing them removes.
  dir = await mkdtemp(join(certs.dir, 'checks-'));
  process.env.DRIFTWATCH_TEST_DIGEST_PASSWORD = CANARY;
}, 60_000);

afterAll(async () => {
  delete process.env.DRIFTWATCH_TEST_DIGEST_PASSWORD;
  await peers.closeAll();
});

function checksYaml(resource: string, tag = '6455902', extra = ''): string {
  return `
checks:
  - name: hub-rollout
    type: k8s-rollout
    kubeconfig: ${kubeconfig}
    namespace: inter-hub
    resource: ${resource}
    timeout: 5s
    expect: { digestFrom: hub-image${extra} }
  - name: hub-image
    type: oci-image
    image: ${image}:${tag}
    username: tegwick
    password: { env: DRIFTWATCH_TEST_DIGEST_PASSWORD }
    resolve: 127.0.0.1
    ca: ${certs.caPath}
`;
}

/** A Deployment on IMAGE:tag and its pods, running `digest`. */
function deploy(name: string, tag: string, digest: string, options: Parameters<typeof podsOf>[2] = {}): { objects: KubeObject[] } {
  const d = kube.put(deployment('inter-hub', name, { image: `${image}:${tag}`, replicas: 2 }));
  const pods = podsOf(d, digest, options).map((pod) => kube.put(pod));
  return { objects: [d, ...pods] };
}

function imageMatch(run: Awaited<ReturnType<typeof runYaml>>): number | undefined {
  return run.samples.find((s) => s.name === 'driftwatch_k8s_image_match')?.value;
}

describe('k8s-rollout expect.digestFrom', () => {
  it('passes when every pod runs the digest the registry serves for the tag, and reports both', async () => {
    const digest = await registry.push(REPO, '6455902');
    deploy('hub', '6455902', digest);
    const run = await runYaml(checksYaml('deployment/hub'));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations.digest).toEqual({
      from: 'hub-image', image: `${image}:6455902`, expected: digest, match: true,
      running: [{ pod: 'hub-7c9d8f6b5-m4q7z', container: 'hub', digest }, { pod: 'hub-7c9d8f6b5-x2k9p', container: 'hub', digest }],
    });
    expect(imageMatch(run)).toBe(1);
    // The pods were found by the workload's selector, in its namespace.
    expect(kube.requests.map((r) => `${r.path}${r.search}`)).toContain('/api/v1/namespaces/inter-hub/pods?labelSelector=app.kubernetes.io%2Fname%3Dhub');
  });

  it('fails once the tag is re-pushed, naming the digest the pods run and the one the registry serves', async () => {
    const old = await registry.push(REPO, 'repushed');
    deploy('repushed', 'repushed', old, { imageID: 'docker' });
    expect((await runYaml(checksYaml('deployment/repushed', 'repushed'))).result.ok).toBe(true);
    const fresh = await registry.push(REPO, 'repushed');
    expect(fresh).not.toBe(old);
    const run = await runYaml(checksYaml('deployment/repushed', 'repushed'));
    expect(run.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: `pods repushed-7c9d8f6b5-m4q7z, repushed-7c9d8f6b5-x2k9p run ${old}, expected ${fresh}, which ${image}:repushed is now (oci-image check hub-image; deployment repushed)`,
    });
    expect(imageMatch(run)).toBe(0);
  });

  it('judges the digest once the rollout finished: during it, reason rollout', async () => {
    const digest = await registry.push(REPO, 'moving');
    const d = kube.put(deployment('inter-hub', 'moving', { image: `${image}:old`, replicas: 2 }));
    for (const pod of podsOf(d, `sha256:${'a'.repeat(64)}`)) kube.put(pod);
    startDeploymentRollout(d, `${image}:moving`);
    const during = await runYaml(checksYaml('deployment/moving', 'moving'));
    expect(during.result).toMatchObject({ ok: false, reason: 'rollout', message: 'rollout in progress: 1 out of 2 new replicas have been updated' });
    expect(during.result.observations.digest).toMatchObject({ expected: digest, match: false });
    completeDeployment(d);
    for (const pod of podsOf(d, digest)) kube.put(pod);
    expect((await runYaml(checksYaml('deployment/moving', 'moving'))).result).toMatchObject({ ok: true });
  });

  it('a container that has not started, a StatefulSet, {release}, and no pods at all', async () => {
    const digest = await registry.push(REPO, 'abc1234');
    deploy('starting', 'abc1234', digest, { imageID: 'pending' });
    const starting = await runYaml(checksYaml('deployment/starting', 'abc1234'));
    expect(starting.result.message).toBe(`pods starting-7c9d8f6b5-m4q7z, starting-7c9d8f6b5-x2k9p have no image digest yet, expected ${digest}, which ${image}:abc1234 is now (oci-image check hub-image; deployment starting)`);

    const sts = kube.put(statefulSet('inter-hub', 'db', { image: `${image}:abc1234`, replicas: 2 }));
    for (const pod of podsOf(sts, digest)) kube.put(pod);
    const released = await runYaml(checksYaml('statefulset/db', '{release}'), { release: 'abc1234' });
    expect(released.result).toMatchObject({ ok: true });
    expect(released.result.observations.digest).toMatchObject({ image: `${image}:abc1234`, running: [{ pod: 'db-0' }, { pod: 'db-1' }] });

    kube.put(deployment('inter-hub', 'nopods', { image: `${image}:abc1234`, replicas: 2 }));
    const none = await runYaml(checksYaml('deployment/nopods', 'abc1234'));
    expect(none.result).toMatchObject({ ok: false, reason: 'assertion', message: `no live pods of deployment nopods (selector app.kubernetes.io/name=nopods) to compare with ${image}:abc1234 ${digest}` });
  });

  it('fails with the registry\'s reason when the digest cannot be read, and with auth when pods may not be listed', async () => {
    const digest = await registry.push(REPO, 'down');
    deploy('down', 'down', digest);
    const missing = await runYaml(checksYaml('deployment/down', 'nope'));
    expect(missing.result).toMatchObject({ ok: false, reason: 'assertion', message: `expect.digestFrom hub-image: tag nope not found in ${image} (404)` });
    await registry.stop();
    try {
      const down = await runYaml(checksYaml('deployment/down', 'down'));
      expect(down.result).toMatchObject({ ok: false, reason: 'connect' });
      expect(down.result.message).toMatch(new RegExp(`^expect\\.digestFrom hub-image: registry ${registry.host}: .*ECONNREFUSED`));
    } finally {
      await registry.start();
    }
    kube.addToken('no-pod-list', { deny: ['list pods'] });
    const denied = await runYaml(checksYaml('deployment/down', 'down').replace(`kubeconfig: ${kubeconfig}`, `kubeconfig: ${await kube.writeKubeconfig({ token: 'no-pod-list' })}`));
    expect(denied.result).toMatchObject({ ok: false, reason: 'auth', message: 'forbidden: list pods in namespace "inter-hub" (labelSelector app.kubernetes.io/name=down) (403)' });
  });

  it('never lets the registry password reach the rollout check\'s outputs', async () => {
    const { log, lines } = memoryLogger();
    const outputs: string[] = [];
    for (const tag of ['6455902', 'repushed', 'nope']) {
      const run = await runYaml(checksYaml(tag === 'repushed' ? 'deployment/repushed' : 'deployment/hub', tag), { log, debug: true });
      outputs.push(JSON.stringify(run.result), JSON.stringify(run.samples));
    }
    outputs.push(lines());
    const all = outputs.join('\n');
    expect(all).toContain('running digests');
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain(Buffer.from(`tegwick:${CANARY}`).toString('base64'));
  });
});

describe('expect.digestFrom when loading and in driftwatch run', () => {
  it('must name an oci-image check of the loaded files, reported at the key', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, [
      'checks:',
      '  - { name: r1, type: k8s-rollout, namespace: a, resource: deploy/x, expect: { digestFrom: hub-imag } }',
      '  - name: r2',
      '    type: k8s-rollout',
      '    namespace: a',
      '    resource: deploy/y',
      '    expect:',
      '      digestFrom: t',
      '  - { name: t, type: tcp, host: 127.0.0.1, port: 1 }',
      '  - { name: hub-image, type: oci-image, image: "registry.example/hub:v1" }',
      '',
    ].join('\n'));
    const error = await loadChecks([file], checkTypes).catch((e: unknown) => e);
    const shown = relative(process.cwd(), file);
    expect(String(error)).toContain(`${shown}:2:92: checks[0].expect.digestFrom: no check named "hub-imag" (oci-image checks: hub-image)`);
    expect(String(error)).toContain(`${shown}:8:19: checks[1].expect.digestFrom: check "t" is a tcp check, expected an oci-image check (oci-image checks: hub-image)`);
    // Another file may hold the oci-image check.
    const rollout = join(dir, 'rollout.yaml');
    const images = join(dir, 'images.yaml');
    await writeFile(rollout, 'checks:\n  - { name: r, type: k8s-rollout, namespace: a, resource: deploy/x, expect: { digestFrom: hub-image } }\n');
    await writeFile(images, 'checks:\n  - { name: hub-image, type: oci-image, image: "registry.example/hub:v1" }\n');
    await expect(loadChecks([rollout, images], checkTypes)).resolves.toHaveLength(2);
  });

  it('run --only the rollout check still finds the oci-image check it names', async () => {
    const digest = await registry.push(REPO, 'cli');
    deploy('cli', 'cli', digest);
    const file = join(dir, 'cli.yaml');
    await writeFile(file, checksYaml('deployment/cli', 'cli'));
    const result = await runCli(['run', '--checks', file, '--only', 'hub-rollout', '--json'], { DRIFTWATCH_TEST_DIGEST_PASSWORD: CANARY });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, results: [{ name: 'hub-rollout', observations: { digest: { expected: digest, match: true } } }] });
    expect(result.stdout).not.toContain(CANARY);
  });
});
