import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { CHART, startHelm, type Helm, type Rendered } from './support/helm.js';
import { startServe } from './support/serve-process.js';
import { HELM_VERSIONS } from './support/tools.js';
import { list, record } from './support/values-tree.js';

/**
 * charts/driftwatch through helm itself (4.1 and 3.17): `helm lint --strict`, values.schema.json
 * as helm enforces it at install time, what a user types for the release, the validating init
 * container, and NOTES.txt.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(CHART, 'examples/inter-hub-values.yaml');
const RUNBOOK = join(ROOT, 'checks/inter-hub.yaml');
const EXAMPLE_ARGS = ['-f', EXAMPLE, '--set-file', `checks.inter-hub=${RUNBOOK}`];

// A values override and how each helm version names the field and the fault.
const SCHEMA_CASES: [string, object, { '4.1.4': string; '3.17.2': string }][] = [
  ['a string replica count', { replicas: 'two' }, { '4.1.4': "at '/replicas': got string, want integer", '3.17.2': 'replicas: Invalid type. Expected: integer, given: string' }],
  ['zero replicas', { replicas: 0 }, { '4.1.4': "at '/replicas': minimum: got 0, want 1", '3.17.2': 'replicas: Must be greater than or equal to 1' }],
  ['an unknown key', { shards: 3 }, { '4.1.4': "additional properties 'shards' not allowed", '3.17.2': 'Additional property shards is not allowed' }],
  ['an unknown log level', { logLevel: 'verbose' }, { '4.1.4': "at '/logLevel': value must be one of 'fatal'", '3.17.2': 'logLevel: logLevel must be one of the following: "fatal"' }],
  ['a flag without --', { extraArgs: ['concurrency=4'] }, { '4.1.4': "at '/extraArgs/0': 'concurrency=4' does not match pattern '^--'", '3.17.2': "extraArgs.0: Does not match pattern '^--'" }],
  ['a string for a boolean', { serviceAccount: { automountToken: 'yes' } }, { '4.1.4': "at '/serviceAccount/automountToken': got string, want null or boolean", '3.17.2': 'serviceAccount.automountToken: Invalid type. Expected: [boolean,null], given: string' }],
  ['a bad percentage', { podDisruptionBudget: { maxUnavailable: 'half' } }, { '4.1.4': "at '/podDisruptionBudget/maxUnavailable': 'half' does not match pattern", '3.17.2': "podDisruptionBudget.maxUnavailable: Does not match pattern '^[0-9]+%$'" }],
  ['an empty image', { image: { repository: '' } }, { '4.1.4': "at '/image/repository': minLength: got 0, want 1", '3.17.2': 'image.repository: String length must be greater than or equal to 1' }],
  // A check file name is a lower-case DNS label: helm names the key and the pattern it breaks.
  ['an upper-case check name', { checks: { MyApp: 'checks: []' } }, { '4.1.4': "invalid propertyName 'MyApp'", '3.17.2': 'checks: Property name of "MyApp" does not match' }],
];

describe.each(HELM_VERSIONS)('charts/driftwatch under helm %s', { timeout: 120_000 }, (version) => {
  let helm: Helm;
  beforeAll(async () => {
    helm = await startHelm(version);
  });
  afterAll(async () => {
    await helm.close();
  });

  it('helm lint --strict with the example values is clean and quiet', async () => {
    const result = await helm.run(['lint', '--strict', CHART, ...EXAMPLE_ARGS]);
    expect(result).toEqual({ code: 0, stdout: `==> Linting ${CHART}\n\n1 chart(s) linted, 0 chart(s) failed\n`, stderr: '' });
  });

  it.each(SCHEMA_CASES)('helm refuses %s at install time, naming the field', async (_name, override, messages) => {
    const args = await helm.valueArgs({ values: [override] });
    const template = await helm.run(['template', 'driftwatch', CHART, ...EXAMPLE_ARGS, ...args]);
    expect(template).toMatchObject({ code: 1, stdout: '' });
    expect(template.stderr).toContain("values don't meet the specifications of the schema(s)");
    expect(template.stderr).toContain(messages[version]);
    const lint = await helm.run(['lint', '--strict', CHART, ...EXAMPLE_ARGS, ...args]);
    expect(lint.code).not.toBe(0);
    expect(lint.stdout).toContain(messages[version]);
  });

  it.each([
    ['--set (an all-digit SHA becomes a number)', ['--set', 'release=6455902'], '6455902'],
    ['--set-string', ['--set-string', 'release=6455902'], '6455902'],
    ['--set with a leading zero (helm keeps it a string)', ['--set', 'release=0455902'], '0455902'],
    ['a values file with an unquoted SHA', [], '6455902'],
  ])('release given with %s reaches the daemon in decimal, as typed', async (_how, args, sha) => {
    const values = args.length === 0 ? [{ release: 6455902 }] : [];
    const out = await helm.render({ valuesFiles: [EXAMPLE], values: [{ checks: { up: 'checks: []\n' } }, ...values], args });
    expect(containers(out, 'containers')[0]?.args).toContain(`--release=${sha}`);
  });

  it('an invalid check file stops in the validate-checks init container, before the daemon, with the located problem in its logs', async () => {
    const bad = 'checks:\n  - name: up\n    type: htp\n    url: http://127.0.0.1:1/\n';
    const out = await helm.render({ valuesFiles: [EXAMPLE], values: [{ checks: { good: 'checks:\n  - { name: t, type: tcp, host: 127.0.0.1, port: 1 }\n', broken: bad } }] });
    const [init, ...more] = containers(out, 'initContainers');
    expect(more).toEqual([]);
    const [daemon] = containers(out, 'containers');
    // The init container runs the image's node and CLI (the Dockerfile's ENTRYPOINT) with validate.
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(await readFile(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '[]';
    const [node, cli] = list(JSON.parse(entrypoint));
    expect(init).toMatchObject({ name: 'validate-checks', image: daemon?.image, command: [node, cli, 'validate'], securityContext: daemon?.securityContext });
    expect(list(init?.volumeMounts)).toEqual([{ name: 'checks', mountPath: '/etc/driftwatch/checks', readOnly: true }]);
    // Its command, run by the built CLI on the rendered ConfigMap's files mounted where it says.
    const files = record(record(out.find('ConfigMap')[0]).data);
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-init-'));
    try {
      for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), String(text));
      const args = list(init?.args).map((arg) => String(arg).replace('=/etc/driftwatch/checks/', `=${dir}/`));
      expect(args.length).toBe(2);
      const result = await runCli([String(list(init?.command)[2]), ...args]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/broken\.yaml:3:11: checks\[0\]\.type: unknown check type "htp"/);
      const fixed = { ...files, 'broken.yaml': bad.replace('htp', 'http') };
      for (const [name, text] of Object.entries(fixed)) await writeFile(join(dir, name), text);
      expect(await runCli([String(list(init?.command)[2]), ...args])).toMatchObject({ code: 0, stdout: 'ok: 2 checks in 2 files\n' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('helm test: the readyz hook pod', { timeout: 120_000 }, () => {
  it("asks the Service for /readyz with the image's node, allowed by the NetworkPolicy; its command passes against a serving daemon and fails against none", async () => {
    const helm = await startHelm('4.1.4');
    const serve = await startServe('checks:\n  - { name: t, type: tcp, host: 127.0.0.1, port: 1 }\n');
    try {
      const out = await helm.render({ valuesFiles: [EXAMPLE], args: ['--set-file', `checks.inter-hub=${RUNBOOK}`] });
      const [pod, ...more] = out.find('Pod');
      expect(more).toEqual([]);
      expect(pod?.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
      const [container] = list(record(pod?.spec).containers).map(record);
      const [node, flag, script, url] = list(container?.command).map(String);
      expect([node, flag, url]).toEqual(['/nodejs/bin/node', '-e', 'http://driftwatch.driftwatch.svc:9147/readyz']);
      // Not behind the Service, yet let in by the NetworkPolicy the example enables.
      const labels = pod?.metadata.labels ?? {};
      expect(labels['app.kubernetes.io/instance']).toBeUndefined();
      const from = list(record(list(record(out.find('NetworkPolicy')[0]?.spec).ingress)[0]).from).map(record);
      expect(from.some((peer) => Object.entries(record(record(peer.podSelector).matchLabels)).every(([k, v]) => labels[k] === v) && peer.podSelector !== undefined)).toBe(true);
      const hook = (target: string) => new Promise<{ code: number; out: string }>((resolve) => {
        execFile(process.execPath, ['-e', script ?? '', target], { timeout: 30_000 }, (err, stdout, stderr) => {
          resolve({ code: err === null ? 0 : 1, out: `${stdout}${stderr}` });
        });
      });
      const up = await hook(`${serve.base}/readyz`);
      expect(up.code).toBe(0);
      expect(up.out).toMatch(/\/readyz: 200 /);
      await serve.stop();
      const down = await hook(`${serve.base}/readyz`);
      expect(down.code).toBe(1);
      expect(down.out).toContain('/readyz: fetch failed');
    } finally {
      await serve.stop().catch(() => undefined);
      await helm.close();
    }
  });
});

describe('NOTES.txt, as Helm 4 prints it after a client-only dry-run install', () => {
  it('names the resources the checks may list', async () => {
    const helm = await startHelm('4.1.4');
    try {
      const own = [
        'checks:',
        '  - { name: a, type: k8s-rollout, namespace: shop, resource: deploy/web, expect: { digestFrom: img } }',
        '  - { name: img, type: oci-image, image: "registry.example/shop/web:v1" }',
        '  - { name: c, type: helm-release, namespace: shop, release: web }',
        '  - { name: d, type: helm-release, namespace: charts, release: api }',
      ].join('\n');
      const args = await helm.valueArgs({ valuesFiles: [EXAMPLE], values: [{ checks: { own } }] });
      const result = await helm.run(['install', 'driftwatch', CHART, '--namespace', 'driftwatch', '--dry-run=client', '--output', 'json', ...args]);
      expect(result.stderr).toBe('');
      const notes = String(record(record(JSON.parse(result.stdout)).info).notes);
      expect(notes).toContain('Kubernetes resources the checks may list (every object of the resource in the namespace):\n  charts: secrets\n  shop: pods\n  shop: secrets');
    } finally {
      await helm.close();
    }
  });
});

function containers(out: Rendered, field: 'containers' | 'initContainers'): Record<string, unknown>[] {
  const [workload] = [...out.find('Deployment'), ...out.find('StatefulSet')];
  return list(record(record(record(workload?.spec).template).spec)[field]).map(record);
}
