import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCollection, isPair, parseAllDocuments } from 'yaml';
import { exceedsBounds } from '../src/text/yaml-bounds.js';
import { loadClientNode } from '../src/kube/client-node.js';
import { runCheck } from '../src/runner/runner.js';
import type { Run } from '../src/results/run.js';
import { createServices, prepareServices } from '../src/runner/services.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { secret } from './peers/kube-objects.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
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

/** One loaded check, run as often as asked: the daemon runs the same check (the same spec) again and again. */
async function loadedCheck(yaml: string): Promise<() => Promise<Run>> {
  const [check] = parseChecks(yaml);
  if (!check) throw new Error('no check in the YAML');
  const services = createServices({ release: undefined });
  await prepareServices(services, [check.spec]);
  return () => runCheck(check.bound, { log: memoryLogger().log, services, debug: true });
}

/** What the run's trace says of the keysFrom file: parsed for this run, or unchanged since the last. */
function keysFromStep(run: Run): unknown {
  return run.result.steps?.find((step) => step.step === 'keysFrom')?.data;
}

describe('k8s-secret expect.keysFrom refuses what is no Secret source before reading or parsing it', () => {
  it('a character device, a FIFO, a folder and a file over 4 MiB fail at once with reason config', async () => {
    const fifo = join(dir, 'source.fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    // Sparse: 3 GiB that take no room. The old reader read /dev/zero to 680 MB before its size check,
    // waited forever on the FIFO (no writer) and could not read the 3 GiB file at all.
    const huge = join(dir, 'huge.sops.yaml');
    const handle = await open(huge, 'w');
    await handle.truncate(3 * 1024 ** 3);
    await handle.close();
    const cases: [string, string][] = [
      ['/dev/zero', 'is not a regular file (a character device)'],
      [fifo, 'is not a regular file (a FIFO)'],
      [dir, 'is not a regular file (a folder)'],
      [huge, "is over 4 MiB (3,221,225,472 bytes): not a Secret's source"],
    ];
    for (const [file, why] of cases) {
      const run = await runYaml(secretYaml(file).replace('namespace: inter-hub', 'timeout: 3s\n    namespace: inter-hub'));
      expect(run.result, file).toMatchObject({ ok: false, reason: 'config', message: `expect.keysFrom ${file} ${why}` });
    }
  });

  it('a file nesting 3 MB deep, or 2 MB wide, fails quickly with its position, before the YAML parser builds it', async () => {
    const deep = join(dir, 'deep.sops.yaml');
    await writeFile(deep, `sops: x\nstringData: ${'['.repeat(3_000_000)}\n`);
    const block = join(dir, 'deep-block.sops.json');
    await writeFile(block, `- ${'- '.repeat(1_500_000)}x\n`);
    const wide = join(dir, 'wide.sops.yaml');
    await writeFile(wide, `sops: x\nstringData: [${'x,'.repeat(1_000_000)}]\n`);
    const cases: [string, RegExp][] = [
      [deep, /^:2:\d+: nests mappings and lists too deep \(at most some 32 levels are read\): not a Secret's source$/],
      [block, /^:1:\d+: nests mappings and lists too deep \(at most some 32 levels are read\): not a Secret's source$/],
      [wide, /^:2:\d+: holds more than 20,000 YAML tokens \(a Secret of some 2,500 keys\): not a Secret's source$/],
    ];
    for (const [file, why] of cases) {
      const run = await runYaml(secretYaml(file));
      expect(run.result, file).toMatchObject({ ok: false, reason: 'config' });
      expect(run.result.message.slice(`expect.keysFrom ${file}`.length), file).toMatch(why);
      // The old reader parsed such a file for 5.7-8.4 s at 1.7 GB; the bound is one hundred times what it takes now.
      expect(run.result.durationMs, file).toBeLessThan(2_000);
    }
  });

  it('parses the file once per change, not on every run: the trace says whether this run parsed it', async () => {
    const file = join(dir, 'once.sops.json');
    await writeFile(file, sopsJson({ DATABASE_URL: CANARY, SESSION_SECRET: CANARY }));
    const run = await loadedCheck(secretYaml(file, 'in-sync'));
    const runs = [await run(), await run(), await run()];
    expect(runs.map((r) => r.result.ok)).toEqual([true, true, true]);
    expect(runs.map(keysFromStep)).toEqual([{ file, parsed: true }, { file, parsed: false }, { file, parsed: false }]);
    // New content of the same size with the old mtime put back: the change time still tells.
    const before = await stat(file);
    await writeFile(file, sopsJson({ DATABASE_URL: CANARY, SESSION_SECRE1: CANARY }));
    await utimes(file, before.atime, before.mtime);
    expect((await stat(file)).size).toBe(before.size);
    const changed = await run();
    expect(keysFromStep(changed)).toEqual({ file, parsed: true });
    expect(changed.result).toMatchObject({ ok: false, reason: 'assertion', observations: { keysFrom: { keys: ['DATABASE_URL', 'SESSION_SECRE1'] } } });
    expect(keysFromStep(await run())).toEqual({ file, parsed: false });
  });

  it('a file refused by its content is refused again without being parsed again', async () => {
    const file = join(dir, 'refused.sops.yaml');
    await writeFile(file, `stringData: ${'{a: '.repeat(100_000)}\n`);
    const run = await loadedCheck(secretYaml(file));
    const [first, second] = [await run(), await run()];
    expect(second.result.message).toBe(first.result.message);
    expect(first.result).toMatchObject({ ok: false, reason: 'config' });
    expect([first, second].map(keysFromStep)).toEqual([{ file, parsed: true }, { file, parsed: false }]);
  });
});

describe('the nesting bound keysFrom files are held to', () => {
  /** The deepest chain of collections the parser built (iteratively: it may be deep). */
  function depthOf(root: unknown): number {
    let deepest = 0;
    const todo: [unknown, number][] = [[root, 1]];
    for (let next = todo.pop(); next; next = todo.pop()) {
      const [node, depth] = next;
      if (!isCollection(node)) continue;
      deepest = Math.max(deepest, depth);
      for (const item of node.items as unknown[]) todo.push(...(isPair(item) ? [item.key, item.value] : [item]).map((child): [unknown, number] => [child, depth + 1]));
    }
    return deepest;
  }
  const boundOf = (text: string) => {
    let depth = 0;
    while (exceedsBounds(text, { depth, tokens: Infinity })) depth++;
    return depth;
  };

  it('is never below the depth the YAML parser builds, for random documents (broken ones too)', () => {
    // Structure-heavy pieces: flow and block indicators, indentation, quotes, block scalars, props.
    const pieces = ['[', ']', '{', '}', ',', ': ', ':', ': ---', ': ,', '- ', '- - ', '? ', 'k: ', 'a', 'a[', ' ', '\n', '\n  ', '\n    ', '\n      ', '"', "'", '#', '|', '>', '|-\n  x\n', '&a ', '*a', '!t ', '---\n', '\t'];
    let seed = 20_261_127;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const under: string[] = [];
    for (let i = 0; i < 1500; i++) {
      let text = '';
      for (let n = 1 + Math.floor(random() * 120); n > 0; n--) text += pieces[Math.floor(random() * pieces.length)] ?? '';
      const built = Math.max(0, ...parseAllDocuments(text, { uniqueKeys: false }).map((doc) => depthOf(doc.contents)));
      if (boundOf(text) < built) under.push(JSON.stringify(text));
    }
    expect(under).toEqual([]);
  });

  it('grows with the nesting however it is written', () => {
    const written = ['[k: ', '[a', '{a: ', '- ', '? ', '[- ', '["a"'];
    for (const piece of written) {
      const text = piece.repeat(100);
      const built = Math.max(...parseAllDocuments(text, { uniqueKeys: false }).map((doc) => depthOf(doc.contents)));
      expect(built, piece).toBeGreaterThan(90);
      expect(boundOf(text), piece).toBeGreaterThanOrEqual(built);
    }
  });
});
