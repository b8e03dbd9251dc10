import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseManifest, type Rendered } from './support/helm.js';
import { isShell, readBlocks } from './support/readme-blocks.js';
import { HELM_VERSIONS, helmBinary } from './support/tools.js';
import { list, record } from './support/values-tree.js';

/**
 * The deploy commands as README.md and the chart's README write them, run by the real helm (4.1
 * and 3.17) with the runbook's own all-digit release 6455902. `helm upgrade --install` becomes
 * `helm template` with the same arguments (the client-side render an install starts with; there
 * is no cluster here, nothing leaves the machine); the rest of the line runs in bash as written.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['README.md', 'charts/driftwatch/README.md'];
const SHA = '6455902';

/** The `helm upgrade --install driftwatch` command of each shell block, continuation lines joined. */
async function installCommands(doc: string): Promise<string[]> {
  const blocks = readBlocks(await readFile(join(ROOT, doc), 'utf8')).filter(isShell);
  return blocks.flatMap((block) => {
    const lines = block.text.replace(/\\\n/g, ' ').split('\n');
    return lines.filter((line) => line.startsWith('helm upgrade --install driftwatch '));
  });
}

/** Runs a documented command in bash from the repository root, `helm upgrade --install` as `helm template`. */
function runDocumented(command: string, helm: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `helm() { [ "$1 $2" = "upgrade --install" ] || { echo "not an install: $*" >&2; return 9; }; shift 2; "$HELM" template "$@"; }\n${command}\n`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HELM: helm, SHA, KUBECONFIG: '/nonexistent/kubeconfig', HELM_CONFIG_HOME: '/nonexistent/helm', HELM_CACHE_HOME: '/nonexistent/helm', HELM_DATA_HOME: '/nonexistent/helm' };
  return new Promise((resolve) => {
    // --norc: bash reads bashrc files when its stdin is a socket (as Node's pipes are).
    execFile('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

function daemonArgs(out: Rendered): unknown[] {
  const [deployment] = out.find('Deployment');
  const [container] = list(record(record(record(deployment?.spec).template).spec).containers).map(record);
  return list(container?.args);
}

describe.each(HELM_VERSIONS)('the documented helm command under helm %s, release 6455902', { timeout: 120_000 }, (version) => {
  it.each(DOCS)('%s: renders, and the daemon gets --release=6455902', async (doc) => {
    const commands = await installCommands(doc);
    expect(commands.length).toBe(1);
    for (const command of commands) {
      expect(command).toContain('--set-string release="$SHA"');
      const result = await runDocumented(command, helmBinary(version));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const out = parseManifest(result.stdout);
      expect(daemonArgs(out)).toContain(`--release=${SHA}`);
      expect(out.find('Deployment')[0]?.metadata.namespace).toBe('driftwatch');
    }
  });
});

describe('the documented deploy path', () => {
  it('sets the release with --set-string everywhere (README, chart README, examples, docs)', async () => {
    const files = [...DOCS, 'charts/driftwatch/examples/inter-hub-values.yaml', 'docs/gate.md', 'docs/deploy-chain.md', 'docs/kubernetes.md'];
    const offending: string[] = [];
    for (const file of files) {
      const text = await readFile(join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/--set (?:release|image\.tag)=\S*/g)) offending.push(`${file}: ${match[0]}`);
    }
    expect(offending).toEqual([]);
  });

  it("README's Helm block creates every Secret and ConfigMap the example values mount or read", async () => {
    const helm = helmBinary('4.1.4');
    const [command] = await installCommands('README.md');
    const out = parseManifest((await runDocumented(command ?? 'false', helm)).stdout);
    const [deployment] = out.find('Deployment');
    const spec = record(record(record(deployment?.spec).template).spec);
    const needed = new Set<string>();
    for (const container of [...list(spec.containers), ...list(spec.initContainers)].map(record)) {
      for (const env of list(container.env).map(record)) {
        const from = record(env.valueFrom);
        for (const ref of [record(from.secretKeyRef), record(from.configMapKeyRef)]) if (typeof ref.name === 'string') needed.add(ref.name);
      }
    }
    for (const volume of list(spec.volumes).map(record)) {
      const name = record(volume.secret).secretName ?? record(volume.configMap).name;
      if (typeof name === 'string') needed.add(name);
    }
    // The chart creates its own ConfigMap of check files.
    for (const made of out.find('ConfigMap')) needed.delete(made.metadata.name);
    expect(needed.size).toBeGreaterThan(3);
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const block = readBlocks(readme).find((b) => b.text.includes('helm upgrade --install driftwatch'))?.text ?? '';
    const created = [...block.matchAll(/kubectl -n driftwatch create (?:secret generic|configmap) ([a-z0-9-]+)/g)].map((m) => m[1]);
    expect([...needed].filter((name) => !created.includes(name))).toEqual([]);
  });
});

describe("the chart README's RBAC answers", () => {
  it('each `kubectl auth can-i` line answers what the Roles rendered for the inter-hub example grant', async () => {
    const readme = await readFile(join(ROOT, 'charts/driftwatch/README.md'), 'utf8');
    const lines = [...readme.matchAll(/^kubectl auth can-i (\w+) ([\w.-]+)(?:\/([\w.-]+))? -n ([\w-]+) --as system:serviceaccount:driftwatch:driftwatch +# (yes|no)/gm)];
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const [command] = await installCommands('charts/driftwatch/README.md');
    const out = parseManifest((await runDocumented(command ?? 'false', helmBinary('4.1.4'))).stdout);
    const bound = new Set(out.find('RoleBinding').filter((b) => list(b.subjects).some((s) => record(s).name === 'driftwatch')).map((b) => b.metadata.namespace));
    const answers = lines.map(([line, verb = '', resource = '', name, namespace = '', said]) => {
      const dot = resource.indexOf('.');
      const [plural, group] = dot < 0 ? [resource, ''] : [resource.slice(0, dot), resource.slice(dot + 1)];
      const allowed = bound.has(namespace) && out.find('Role', namespace).some((role) => list(role.rules).map(record).some((rule) =>
        list(rule.verbs).includes(verb) && list(rule.apiGroups).includes(group) && list(rule.resources).includes(plural) &&
        (rule.resourceNames === undefined || (name !== undefined && list(rule.resourceNames).includes(name)))));
      return `${line.replace(/ +#.*/, '')}: README ${said ?? ''}, Roles ${allowed ? 'yes' : 'no'}`;
    });
    expect(answers.filter((a) => !/README (yes|no), Roles \1$/.test(a))).toEqual([]);
  });
});
