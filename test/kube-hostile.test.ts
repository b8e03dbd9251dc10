/**
 * Trust round 3, the Kubernetes items: an API server (or what stands in front of it) that echoes
 * the credentials it was sent, answers megabytes of status text, or serves an object of another
 * kind than its path says. The stand-in (peers/kube-api.ts) plays each through its `rewrite`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientNode } from '../src/kube/client-node.js';
import { shapeOf } from '../src/kube/json-shape.js';
import { MAX_ITEMS, ON_LOOP_BYTES, parseAnswer } from '../src/kube/json-thread.js';
import { deploymentSchema, statefulSetSchema } from '../src/kube/rollout-status.js';
import { MAX_RESULT_BYTES } from '../src/results/result-bounds.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { mintClientCertificate } from './peers/kube-credentials.js';
import { echoCredentialsInStatus, echoTokenInSecretKeys, rewrites, serveAt } from './peers/kube-hostile.js';
import { cnpgCluster, deployment, loadBalancerService, secret, statefulSet } from './peers/kube-objects.js';
import { memoryLogger, runYaml } from './support/checks.js';
import { collectOutputs, startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { startServe } from './support/serve-process.js';
import { waitFor } from './support/wait-for.js';

const hex = randomBytes(6).toString('hex');
const TOKEN = `kube-canary-token-${hex}`;
const EXEC_TOKEN = `kube-canary-exec-${hex}`;
const BASIC_PASSWORD = `kube-canary-pw-${hex}`;
const NS = 'hostile';
const apps = (name: string) => `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;
const core = (resource: string, name?: string) => `/api/v1/namespaces/${NS}/${resource}${name === undefined ? '' : `/${name}`}`;
const cnpg = (name: string) => `/apis/postgresql.cnpg.io/v1/namespaces/${NS}/clusters/${name}`;

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  await loadClientNode();
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig({ token: TOKEN });
  kube.addToken(TOKEN);
});

afterAll(async () => {
  await kube.close();
});

describe('credentials a hostile API server echoes never leave the run', () => {
  let api: DaemonApi;
  let app: FastifyInstance;
  const logs = memoryLogger();
  let keyPem = '';
  const CHECKS = ['echo-500', 'echo-429', 'secret-keys', 'cnpg-500', 'helm-500', 'ingress-500', 'exec-500', 'basic-429', 'client-key-500', 'cut-500'];

  beforeAll(async () => {
    const client = await mintClientCertificate();
    keyPem = client.key;
    kube.addToken(EXEC_TOKEN);
    kube.addToken(`probe:${BASIC_PASSWORD}`);
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: EXEC_TOKEN } });
    const exec = await kube.writeKubeconfig({ token: 'unused', user: { exec: { command: process.execPath, args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`] } } });
    const basic = await kube.writeKubeconfig({ token: 'unused', user: { username: 'probe', password: BASIC_PASSWORD } });
    const withKey = await kube.writeKubeconfig({ token: TOKEN, user: { clientCertificate: client } });
    kube.put(secret(NS, 'app-env', { DATABASE_URL: 'x' }));
    kube.rewrite = rewrites(
      echoCredentialsInStatus(apps('echo-500'), 500),
      echoCredentialsInStatus(apps('echo-429'), 429),
      echoTokenInSecretKeys(core('secrets', 'app-env')),
      echoCredentialsInStatus(cnpg('pg'), 500),
      echoCredentialsInStatus(core('secrets'), 500),
      echoCredentialsInStatus(core('services', 'lb'), 500),
      echoCredentialsInStatus(apps('echo-exec'), 500),
      echoCredentialsInStatus(apps('echo-basic'), 429),
      echoCredentialsInStatus(apps('echo-key'), 500, { extra: `client key ${keyPem}` }),
      echoCredentialsInStatus(apps('echo-cut'), 500, { tokenAt: 290 }),
    );
    const source = `kubeconfig: ${kubeconfig}, namespace: ${NS}`;
    api = await startDaemonApi(
      `defaults: { interval: 1h, timeout: 5s }
checks:
  - { name: echo-500, type: k8s-rollout, ${source}, resource: deployment/echo-500 }
  - { name: echo-429, type: k8s-rollout, ${source}, resource: deployment/echo-429 }
  - { name: secret-keys, type: k8s-secret, ${source}, secret: app-env, expect: { keys: [DATABASE_URL], allowExtraKeys: false } }
  - { name: cnpg-500, type: cnpg-cluster, ${source}, cluster: pg }
  - { name: helm-500, type: helm-release, ${source}, release: hub }
  - { name: ingress-500, type: ingress, url: "https://hub.example.test/", ingressFrom: { kubeconfig: ${kubeconfig}, namespace: ${NS}, service: lb } }
  - { name: exec-500, type: k8s-rollout, kubeconfig: ${exec}, namespace: ${NS}, resource: deployment/echo-exec }
  - { name: basic-429, type: k8s-rollout, kubeconfig: ${basic}, namespace: ${NS}, resource: deployment/echo-basic }
  - { name: client-key-500, type: k8s-rollout, kubeconfig: ${withKey}, namespace: ${NS}, resource: deployment/echo-key }
  - { name: cut-500, type: k8s-rollout, ${source}, resource: deployment/echo-cut }
`,
      logs.log,
    );
    app = api.app;
  });

  afterAll(async () => {
    kube.rewrite = undefined;
    await api.close();
  });

  it('the server really echoed them: the messages show where, as [secret]', async () => {
    const message = async (name: string) => (await app.inject(`/probe?check=${name}`)).json<{ message: string }>().message;
    expect(await message('echo-500')).toMatch(/^Kubernetes API answered 500 to get deployments\.apps "echo-500" in namespace "hostile": .*with header "Authorization: \[secret\]"/);
    expect(await message('echo-429')).toMatch(/^Kubernetes API answered 429 .*Too many requests from \[secret\]/);
    expect(await message('secret-keys')).toBe('secret app-env: unexpected keys leak.[secret] (expected only DATABASE_URL)');
    expect(await message('exec-500')).toContain('"Authorization: [secret]"');
    expect(await message('client-key-500')).toContain('client key [secret]');
    // Cut at 300 characters, the token from character 290 on: scrubbed before the cut, not half left.
    expect(await message('cut-500')).toMatch(/: w{290}\[secret\] w\.\.\. \(\d+ more characters\)$/);
    // Every check type that reads the API registered its credentials (helm-release lists, ingress reads a Service).
    for (const name of ['cnpg-500', 'helm-500', 'ingress-500', 'basic-429']) expect(await message(name), name).toMatch(/Kubernetes API answered (500|429) .*\[secret\]/);
  });

  it('appear in no result, debug record, API answer, page, metrics or log line', async () => {
    const { all, passed } = await collectOutputs(app, CHECKS, logs.lines);
    expect(passed).toEqual([]);
    const keyBody = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
    for (const form of [TOKEN, EXEC_TOKEN, BASIC_PASSWORD, `probe:${BASIC_PASSWORD}`, keyBody, ...keyBody.match(/.{1,40}/g) ?? []]) {
      expect(all, `leaked ${form}`).not.toContain(form);
    }
  });
});

/** 7 MB of condition text, as a controller gone wrong (or a hostile server) might report it. */
const HUGE = `${'x'.repeat(1000)} ${'progress deadline detail '.repeat(280_000)}`;
/** A pod template with `count` containers: with 100k, its image list alone is about 1.9 MB. */
const containers = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `c${i}`, image: `r.example/a${i}:1` }));

function hugeObjects(): { path: string; object: object }[] {
  const stuck = deployment(NS, 'huge-message', { image: 'r.example/hub:1' });
  stuck.status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: HUGE }];
  const many = deployment(NS, 'many-containers', { image: 'x', containers: containers(100_000) });
  const some = deployment(NS, 'some-containers', { image: 'x', containers: containers(5_000) });
  const pg = cnpgCluster(NS, 'huge-pg');
  Object.assign(pg.status, { phase: 'Cluster cannot proceed to reconciliation', phaseReason: HUGE.slice(0, 3_000_000) });
  pg.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: HUGE.slice(0, 3_000_000) }];
  return [
    { path: apps('huge-message'), object: stuck },
    { path: apps('many-containers'), object: many },
    { path: apps('some-containers'), object: some },
    { path: cnpg('huge-pg'), object: pg },
  ];
}

const HUGE_CHECKS = `
  - { name: huge-message, type: k8s-rollout, KUBE, namespace: ${NS}, resource: deployment/huge-message, interval: 2s, timeout: 2s }
  - { name: many-containers, type: k8s-rollout, KUBE, namespace: ${NS}, resource: deployment/many-containers, interval: 2s, timeout: 2s, expect: { image: r.example/hub, tag: "1" } }
  - { name: huge-pg, type: cnpg-cluster, KUBE, namespace: ${NS}, cluster: huge-pg, interval: 2s, timeout: 2s }
`;
const SOME_CHECK = `
  - { name: some-containers, type: k8s-rollout, KUBE, namespace: ${NS}, resource: deployment/some-containers, expect: { image: r.example/hub, tag: "1" } }
`;

describe('megabytes of Kubernetes status text', { timeout: 90_000 }, () => {
  beforeAll(() => {
    kube.rewrite = rewrites(...hugeObjects().map(({ path, object }) => serveAt(path, object)));
  });

  afterAll(() => {
    kube.rewrite = undefined;
  });

  it('each result stays under MAX_RESULT_BYTES with a readable message that says what was cut', async () => {
    const yaml = `checks:${(HUGE_CHECKS + SOME_CHECK).replaceAll('KUBE', `kubeconfig: ${kubeconfig}`)}`;
    const names = ['huge-message', 'many-containers', 'huge-pg', 'some-containers'];
    const results = await Promise.all(names.map(async (name) => (await runYaml(yaml, { name })).result));
    for (const result of results) expect(Buffer.byteLength(JSON.stringify(result)), result.name).toBeLessThan(MAX_RESULT_BYTES);
    const [stuck, many, pg, some] = results;
    expect(stuck).toMatchObject({ ok: false, reason: 'rollout' });
    expect(stuck?.message).toMatch(/^rollout stuck: progress deadline exceeded \(x{300}\.\.\. \(\d+ more characters\)\)$/);
    // More containers than any pod template has are not read at all (nor parsed on the event loop).
    expect(many).toMatchObject({
      ok: false, reason: 'error',
      message: 'get deployments.apps "many-containers" in namespace "hostile": the answer lists 100000 items at spec.template.spec.containers, more than the 10000 a check reads',
    });
    // Fewer are judged, and named by the first ten distinct images and a count.
    expect(some).toMatchObject({ ok: false, reason: 'assertion' });
    expect(some?.message).toMatch(/^image r\.example\/a0:1, r\.example\/a1:1, .*r\.example\/a9:1 and 4990 more running, expected r\.example\/hub:1 \(deployment some-containers\)$/);
    expect(some?.observations).toMatchObject({ containerCount: 5000, image: { match: false } });
    expect(some?.observations.containers).toHaveLength(20);
    expect(pg).toMatchObject({ ok: false, reason: 'assertion' });
    expect(pg?.message).toMatch(/^phase "Cluster cannot proceed to reconciliation": x{300}\.\.\. \(\d+ more characters\), expected "Cluster in healthy state"$/);
    for (const result of results) expect(result.message.length, result.name).toBeLessThan(1000);
  });

  it('the daemon keeps answering /metrics within 200 ms while three such checks run every 2 s, and its memory stays bounded', async () => {
    const daemon = await startServe(`checks:${HUGE_CHECKS.replaceAll('KUBE', `kubeconfig: ${kubeconfig}`)}`);
    try {
      const rssBefore = await daemon.rssBytes();
      const latencies = await daemon.metricsLatencies(6500);
      const rssAfter = await daemon.rssBytes();
      for (const name of ['huge-message', 'many-containers', 'huge-pg']) {
        const last = await waitFor(() => daemon.lastResult(name), `a run of ${name}`);
        expect(last, name).toMatchObject({ ok: false });
        expect(Buffer.byteLength(JSON.stringify(last)), name).toBeLessThan(MAX_RESULT_BYTES);
      }
      const page = await fetch(`${daemon.base}/`);
      expect((await page.text()).length).toBeLessThan(2 * 1024 * 1024);
      console.log(`kube-hostile: /metrics max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} GETs; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB`);
      expect(latencies.length).toBeGreaterThan(20);
      expect(Math.max(...latencies)).toBeLessThan(200);
      expect(rssAfter).toBeLessThan(400 * 1024 * 1024);
    } finally {
      await daemon.stop();
    }
  });
});

describe('an answer of another kind than the path says', () => {
  it('a Service (or a StatefulSet) served where a Deployment is expected fails with reason error, naming both kinds', async () => {
    const service = loadBalancerService(NS, 'not-a-deployment', [{ ip: '203.0.113.7' }]);
    const sts = statefulSet(NS, 'sts-as-deployment', { image: 'r.example/hub:1' });
    const edb = { ...cnpgCluster(NS, 'edb'), apiVersion: 'postgresql.k8s.enterprisedb.io/v1' };
    kube.rewrite = rewrites(serveAt(apps('not-a-deployment'), service), serveAt(apps('sts-as-deployment'), sts), serveAt(cnpg('edb'), edb));
    try {
      const yaml = (resource: string) => `checks:\n  - { name: kind, type: k8s-rollout, kubeconfig: ${kubeconfig}, namespace: ${NS}, resource: ${resource} }`;
      expect((await runYaml(yaml('deployment/not-a-deployment'))).result).toMatchObject({
        ok: false, reason: 'error', message: 'get deployments.apps "not-a-deployment" in namespace "hostile": the API server answered a v1 Service, expected an apps/v1 Deployment',
      });
      expect((await runYaml(yaml('deployment/sts-as-deployment'))).result).toMatchObject({
        ok: false, reason: 'error', message: 'get deployments.apps "sts-as-deployment" in namespace "hostile": the API server answered an apps/v1 StatefulSet, expected an apps/v1 Deployment',
      });
      const cluster = await runYaml(`checks:\n  - { name: pg, type: cnpg-cluster, kubeconfig: ${kubeconfig}, namespace: ${NS}, cluster: edb }`);
      expect(cluster.result).toMatchObject({
        ok: false, reason: 'error', message: 'get clusters.postgresql.cnpg.io "edb" in namespace "hostile": the API server answered a postgresql.k8s.enterprisedb.io/v1 Cluster, expected a postgresql.cnpg.io/v1 Cluster',
      });
    } finally {
      kube.rewrite = undefined;
    }
  });
});

describe('the JSON thread a large answer is parsed on', () => {
  const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
  const signal = () => AbortSignal.timeout(10_000);

  it('keeps what the schema reads, so the schema reads the same from it as from the whole object', async () => {
    const d = deployment(NS, 'bloated', { image: 'r.example/hub:1', containers: containers(2000) });
    // managedFields and the like: what a real object carries and no check reads.
    Object.assign(d.metadata, { managedFields: Array.from({ length: 300 }, (_, i) => ({ manager: `m${i}`, fieldsV1: { 'f:spec': { 'f:template': {} } } })) });
    const sts = statefulSet(NS, 'bloated', { image: 'r.example/db:1' });
    Object.assign(sts.metadata, { annotations: { big: 'y'.repeat(ON_LOOP_BYTES) } });
    for (const [object, schema] of [[d, deploymentSchema], [sts, statefulSetSchema]] as const) {
      const body = bytes(object);
      expect(body.byteLength).toBeGreaterThan(ON_LOOP_BYTES);
      const parsed = await parseAnswer(body, shapeOf(schema), signal());
      if (!('value' in parsed)) throw new Error(parsed.refused);
      expect(JSON.stringify(parsed.value)).not.toContain('managedFields');
      expect(JSON.stringify(parsed.value).length).toBeLessThan(JSON.stringify(object).length);
      expect(schema.parse(parsed.value)).toEqual(schema.parse(JSON.parse(JSON.stringify(object))));
    }
  });

  it('refuses, with the reason, what no real object is: longer arrays, deeper nesting, not JSON', async () => {
    const long = { items: Array.from({ length: MAX_ITEMS + 1 }, () => ({ metadata: { name: 'p' } })) };
    expect(await parseAnswer(bytes(long), true, signal())).toEqual({ refused: `the answer lists ${MAX_ITEMS + 1} items at items, more than the ${MAX_ITEMS} a check reads` });
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    expect(await parseAnswer(bytes(deep), true, signal())).toMatchObject({ refused: expect.stringMatching(/^the answer nests deeper than 100 levels at (\[\]){100}\.\.\.$/) as string });
    expect(await parseAnswer(bytes(`<html>${'x'.repeat(ON_LOOP_BYTES)}</html>`), true, signal())).toEqual({ refused: 'the API server answered something that is not JSON' });
    // The thread still answers after all of that.
    expect(await parseAnswer(bytes({ a: 'z'.repeat(ON_LOOP_BYTES) }), { o: { a: true } }, signal())).toEqual({ value: { a: 'z'.repeat(ON_LOOP_BYTES) } });
  });
});
