import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientNode } from '../src/kube/client-node.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { secret } from './peers/kube-objects.js';
import { memoryLogger, runYaml } from './support/checks.js';
import { sopsDotenv, sopsJson, sopsYaml } from './support/sops-file.js';

/**
 * k8s-secret expect.keysFrom: the live Secret's key names against the key names of the runbook's
 * SOPS source file (deploy/railiance/secrets/inter-hub.env.sops.yaml), read without decrypting.
 */

// Values that must never be read out: in the live Secret, encrypted in the files, and one left in
// clear in the file's metadata (sops --encrypted-regex '^(data|stringData)$' spares it).
const CANARY = 'canary-6e1f0b9d-sops-value';
const CLEAR_CANARY = 'canary-4a9c2f7e-clear-annotation';

let kube: KubeApi;
let kubeconfig: string;
let dir: string;
const files: Record<string, string> = {};
const fileTexts: string[] = [];

beforeAll(async () => {
  await loadClientNode();
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-sops-'));
  // The live Secret: the drill's keys, plus DEBUG_TOKEN that the source file does not have.
  kube.put(secret('inter-hub', 'inter-hub-env', { DATABASE_URL: `postgres://interhub:${CANARY}@net-kingdom-pg-rw.databases:5432/interhub`, SESSION_SECRET: CANARY, IHP_BASEURL: 'https://hub.coulomb.social', DEBUG_TOKEN: CANARY }));
  kube.put(secret('inter-hub', 'in-sync', { DATABASE_URL: CANARY, SESSION_SECRET: CANARY }));
  // What k8s-secret-json-to-sops-input.py makes of `kubectl get secret -o json`, encrypted by sops.
  const manifest = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: 'inter-hub-env', namespace: 'inter-hub', annotations: { 'railiance.io/source': CLEAR_CANARY } },
    stringData: { DATABASE_URL: `postgres://interhub:${CANARY}@x/interhub`, SESSION_SECRET: CANARY, IHP_BASEURL: 'https://hub.coulomb.social' },
    data: { SMTP_PASSWORD: Buffer.from(CANARY).toString('base64') },
  };
  const write = async (name: string, text: string) => {
    files[name] = join(dir, name);
    fileTexts.push(text);
    await writeFile(files[name], text);
  };
  await write('inter-hub.env.sops.yaml', sopsYaml(manifest, { encryptedRegex: /^(data|stringData)$/ }));
  // sops without --encrypted-regex encrypts kind, metadata and all: the manifest is known by its keys.
  await write('all-encrypted.sops.yaml', sopsYaml(manifest));
  await write('flat.sops.json', sopsJson({ DATABASE_URL: CANARY, SESSION_SECRET: CANARY }));
  await write('inter-hub.env', sopsDotenv({ DATABASE_URL: CANARY, SESSION_SECRET: CANARY, IHP_BASEURL: 'https://hub.coulomb.social', DEBUG_TOKEN: CANARY }));
  await write('plain.yaml', `DATABASE_URL: ${CANARY}\nSESSION_SECRET: x\n`);
  // A YAML error on a line that holds a value: the parser's own message would quote it.
  await write('broken.sops.yaml', `stringData:\n    DATABASE_URL: ENC[AES256_GCM,data:${CANARY}]: x\n`);
});

afterAll(async () => {
  await kube.close();
  await rm(dir, { recursive: true, force: true });
});

function secretYaml(file: string, name = 'inter-hub-env', extra = ''): string {
  return `
checks:
  - name: hub-env
    type: k8s-secret
    kubeconfig: ${kubeconfig}
    namespace: inter-hub
    secret: ${name}
    expect: { keysFrom: ${file}${extra} }
`;
}

describe('k8s-secret expect.keysFrom a SOPS file', () => {
  it('names the key missing from the Secret and the one the file does not have', async () => {
    const file = files['inter-hub.env.sops.yaml']!;
    const run = await runYaml(secretYaml(file));
    expect(run.result).toMatchObject({
      ok: false, reason: 'assertion',
      message: `secret inter-hub-env: missing keys SMTP_PASSWORD (in ${file}, not in the Secret); unexpected keys DEBUG_TOKEN (in the Secret, not in ${file})`,
    });
    expect(run.result.observations).toMatchObject({
      keys: ['DATABASE_URL', 'DEBUG_TOKEN', 'IHP_BASEURL', 'SESSION_SECRET'], missingKeys: ['SMTP_PASSWORD'], unexpectedKeys: ['DEBUG_TOKEN'],
      keysFrom: { file, format: 'yaml', shape: 'secret-manifest', keys: ['DATABASE_URL', 'IHP_BASEURL', 'SESSION_SECRET', 'SMTP_PASSWORD'] },
    });
    // allowExtraKeys: true still reports the missing key but tolerates the extra one.
    const lenient = await runYaml(secretYaml(file, 'inter-hub-env', ', allowExtraKeys: true'));
    expect(lenient.result.message).toBe(`secret inter-hub-env: missing keys SMTP_PASSWORD (in ${file}, not in the Secret)`);
  });

  it('reads a fully encrypted manifest, flat JSON and dotenv files', async () => {
    const all = await runYaml(secretYaml(files['all-encrypted.sops.yaml']!));
    expect(all.result.observations).toMatchObject({ keysFrom: { shape: 'secret-manifest', keys: ['DATABASE_URL', 'IHP_BASEURL', 'SESSION_SECRET', 'SMTP_PASSWORD'] } });
    const json = await runYaml(secretYaml(files['flat.sops.json']!, 'in-sync'));
    expect(json.result).toMatchObject({ ok: true });
    expect(json.result.observations).toMatchObject({ keysFrom: { format: 'json', shape: 'document', keys: ['DATABASE_URL', 'SESSION_SECRET'] } });
    const dotenv = await runYaml(secretYaml(files['inter-hub.env']!));
    expect(dotenv.result).toMatchObject({ ok: true });
    expect(dotenv.result.observations).toMatchObject({ keysFrom: { format: 'dotenv', keys: ['DATABASE_URL', 'DEBUG_TOKEN', 'IHP_BASEURL', 'SESSION_SECRET'] } });
  });

  it('fails with reason config on a missing, unencrypted or broken file, naming no value', async () => {
    expect((await runYaml(secretYaml(join(dir, 'absent.sops.yaml')))).result).toMatchObject({ ok: false, reason: 'config', message: `expect.keysFrom ${join(dir, 'absent.sops.yaml')} cannot be read (ENOENT)` });
    expect((await runYaml(secretYaml(files['plain.yaml']!))).result).toMatchObject({ ok: false, reason: 'config', message: `expect.keysFrom ${files['plain.yaml']!} has no sops metadata: not a SOPS-encrypted file` });
    const broken = await runYaml(secretYaml(files['broken.sops.yaml']!));
    expect(broken.result).toMatchObject({ ok: false, reason: 'config' });
    expect(broken.result.message).toMatch(new RegExp(`^expect\\.keysFrom ${files['broken.sops.yaml']!}:\\d+:\\d+: not valid YAML \\([A-Z_]+\\)$`));
  });

  it('never reads a value out: canaries in the Secret, the ciphertexts and a clear value in the file stay out of every output', async () => {
    const { log, lines } = memoryLogger();
    const outputs: string[] = [];
    for (const name of Object.keys(files)) {
      const run = await runYaml(secretYaml(files[name]!), { log, debug: true });
      outputs.push(JSON.stringify(run.result), JSON.stringify(run.samples), JSON.stringify(run.probeSamples()));
    }
    outputs.push(lines());
    const all = outputs.join('\n');
    expect(all).toContain('SMTP_PASSWORD');
    for (const value of [CANARY, Buffer.from(CANARY).toString('base64'), CLEAR_CANARY]) expect(all).not.toContain(value);
    // No ENC[...] value of any file, and no piece of their ciphertexts.
    expect(all).not.toContain('ENC[');
    const ciphertexts = fileTexts.flatMap((text) => [...text.matchAll(/data:([A-Za-z0-9+/=]{12,})/g)].map((m) => m[1]!));
    expect(ciphertexts.length).toBeGreaterThan(10);
    for (const data of ciphertexts) expect(all).not.toContain(data);
  });
});
