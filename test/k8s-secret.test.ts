import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/problem.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { secret } from './peers/kube-objects.js';

// A value that must never leave the parser, and its base64 form as the API serves it.
const CANARY = 'canary-7f3a9c1e-do-not-print';
const CANARY_B64 = Buffer.from(CANARY).toString('base64');

let kube: KubeApi;
let kubeconfig: string;

beforeAll(async () => {
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
  const values = { DATABASE_URL: `postgres://app:${CANARY}@net-kingdom-pg-rw.databases:5432/app`, SESSION_SECRET: CANARY, IHP_BASEURL: 'https://hub.coulomb.social' };
  // kubectl apply leaves the whole object, values included, in this annotation.
  const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { SESSION_SECRET: CANARY_B64 }, metadata: { name: 'inter-hub-env', namespace: 'inter-hub' } });
  kube.put(secret('inter-hub', 'inter-hub-env', values, { labels: { 'app.kubernetes.io/part-of': 'inter-hub' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }));
  kube.put(secret('inter-hub', 'tls-cert', { 'tls.crt': CANARY, 'tls.key': CANARY }, { type: 'kubernetes.io/tls' }));
});

afterAll(async () => {
  await kube.close();
});

function secretYaml(expectBlock: string, name = 'inter-hub-env', file = kubeconfig): string {
  return `
checks:
  - name: hub-env
    type: k8s-secret
    kubeconfig: ${file}
    namespace: inter-hub
    secret: ${name}
${expectBlock ? `    expect: ${expectBlock}` : ''}
`;
}

describe('k8s-secret', () => {
  it('passes when the required keys are there and reports key names and metadata only', async () => {
    const run = await runYaml(secretYaml('{ keys: [DATABASE_URL, SESSION_SECRET], type: Opaque, labels: { app.kubernetes.io/part-of: inter-hub } }'));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations).toEqual({
      namespace: 'inter-hub', name: 'inter-hub-env', type: 'Opaque',
      keys: ['DATABASE_URL', 'IHP_BASEURL', 'SESSION_SECRET'], missingKeys: [], unexpectedKeys: ['IHP_BASEURL'],
      labels: { 'app.kubernetes.io/part-of': 'inter-hub' }, annotationKeys: ['kubectl.kubernetes.io/last-applied-configuration'],
      immutable: false, createdAt: '2026-11-20T09:14:03Z', resourceVersion: expect.any(String) as string,
    });
  });

  it('fails on a missing key, naming it and the keys present', async () => {
    const run = await runYaml(secretYaml('{ keys: [DATABASE_URL, SESSION_SECRET, SMTP_PASSWORD] }'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'secret inter-hub-env: missing keys SMTP_PASSWORD (has DATABASE_URL, IHP_BASEURL, SESSION_SECRET)' });
    expect(run.result.observations).toMatchObject({ missingKeys: ['SMTP_PASSWORD'] });
  });

  it('fails on unexpected keys only when allowExtraKeys is false', async () => {
    const strict = await runYaml(secretYaml('{ keys: [DATABASE_URL, SESSION_SECRET], allowExtraKeys: false }'));
    expect(strict.result).toMatchObject({ ok: false, reason: 'assertion', message: 'secret inter-hub-env: unexpected keys IHP_BASEURL (expected only DATABASE_URL, SESSION_SECRET)' });
    const lenient = await runYaml(secretYaml('{ keys: [DATABASE_URL, SESSION_SECRET] }'));
    expect(lenient.result.ok).toBe(true);
  });

  it('fails on a wrong type or label, listing every problem', async () => {
    const run = await runYaml(secretYaml('{ keys: [tls.crt, ca.crt], type: Opaque, labels: { team: web } }', 'tls-cert'));
    expect(run.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: 'secret tls-cert: missing keys ca.crt (has tls.crt, tls.key); type kubernetes.io/tls, expected Opaque; label team missing, expected team=web',
    });
  });

  it('404, 403 and a bad key name in the check file', async () => {
    expect((await runYaml(secretYaml('', 'gone'))).result).toMatchObject({ ok: false, reason: 'assertion', message: 'secret gone not found in namespace inter-hub' });
    kube.addToken('no-secrets', { deny: ['secrets'] });
    const denied = await runYaml(secretYaml('', 'inter-hub-env', await kube.writeKubeconfig({ token: 'no-secrets' })));
    expect(denied.result).toMatchObject({ ok: false, reason: 'auth', message: 'forbidden: get secrets "inter-hub-env" in namespace "inter-hub" (403)' });
    expect(() => parseChecks(secretYaml('{ keys: ["bad key"] }'))).toThrow(ConfigError);
    expect(() => parseChecks(secretYaml('{ keys: [A], extra: true }'))).toThrow(/checks\[0\]\.expect/);
  });

  it('never lets a value reach logs, results, debug steps or samples', async () => {
    const outputs: string[] = [];
    const { log, lines } = memoryLogger();
    for (const expectBlock of ['{ keys: [DATABASE_URL] }', '{ keys: [MISSING], allowExtraKeys: false, type: Other }', '']) {
      const run = await runYaml(secretYaml(expectBlock), { log, debug: true });
      expect(run.result.steps?.length).toBeGreaterThan(0);
      outputs.push(JSON.stringify(run.result), JSON.stringify(run.samples), JSON.stringify(run.probeSamples()));
    }
    kube.failWith = 500;
    try {
      outputs.push(JSON.stringify((await runYaml(secretYaml(''), { log, debug: true })).result));
    } finally {
      kube.failWith = undefined;
    }
    outputs.push(lines());
    expect(lines()).toContain('check failed');
    const all = outputs.join('\n');
    expect(all).toContain('SESSION_SECRET');
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain(CANARY_B64);
    expect(all).not.toContain(CANARY_B64.slice(0, 16));
  });
});
