import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTypes } from '../src/checks/registry.js';
import { loadChecks } from '../src/config/load.js';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { runCli } from './support/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tcp = (name: string, extra = '') => `  - name: ${name}\n    type: tcp\n    host: 127.0.0.1\n    port: 1\n${extra}`;

describe('dependsOn: the dependency graph is validated across all files', () => {
  let dir: string;
  let n = 0;
  /** Writes the files into a fresh folder; returns it and a function naming a file as problems do. */
  async function files(contents: Record<string, string>): Promise<{ folder: string; shown: (name: string, from?: string) => string }> {
    const folder = join(dir, `case-${++n}`);
    await mkdir(folder);
    for (const [name, text] of Object.entries(contents)) await writeFile(join(folder, name), text);
    return { folder, shown: (name, from = process.cwd()) => relative(from, join(folder, name)) };
  }
  async function problemsOf(folder: string): Promise<string[]> {
    try {
      await loadChecks([folder], checkTypes);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map(formatProblem);
      throw err;
    }
    return [];
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-depends-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid graph across files, dependsOn kept on the spec', async () => {
    const { folder } = await files({
      'a.yaml': `checks:\n${tcp('db')}${tcp('app', '    dependsOn: [db, dns]\n')}`,
      'b.yaml': `checks:\n${tcp('dns')}`,
    });
    const checks = await loadChecks([folder], checkTypes);
    expect(checks.map((c) => [c.spec.name, c.spec.dependsOn])).toEqual([
      ['db', undefined],
      ['app', ['db', 'dns']],
      ['dns', undefined],
    ]);
  });

  it('names an unknown dependency, a self-dependency and a repeated name at their entries', async () => {
    const { folder, shown } = await files({
      'a.yaml': `checks:\n${tcp('db')}${tcp('app', '    dependsOn: [db, hub-dsn, db]\n')}${tcp('me', '    dependsOn:\n      - me\n')}`,
    });
    expect(await problemsOf(folder)).toEqual([
      `${shown('a.yaml')}:10:21: checks[1].dependsOn[1]: unknown check "hub-dsn" (no check of that name in the loaded files)`,
      `${shown('a.yaml')}:10:30: checks[1].dependsOn[2]: "db" is listed twice`,
      `${shown('a.yaml')}:16:9: checks[2].dependsOn[0]: a check cannot depend on itself`,
    ]);
  });

  it('names a cycle across files in full, once, at the entry of its first check', async () => {
    const { folder, shown } = await files({
      'a.yaml': `checks:\n${tcp('first', '    dependsOn: [third]\n')}${tcp('second', '    dependsOn: [first]\n')}`,
      'b.yaml': `checks:\n${tcp('third', '    dependsOn: [ok-one, second]\n')}${tcp('ok-one')}${tcp('pair-a', '    dependsOn: [pair-b]\n')}${tcp('pair-b', '    dependsOn: [pair-a]\n')}`,
    });
    expect(await problemsOf(folder)).toEqual([
      `${shown('a.yaml')}:6:17: checks[0].dependsOn[0]: dependency cycle: first -> third -> second -> first (remove one of these dependsOn entries)`,
      `${shown('b.yaml')}:15:17: checks[2].dependsOn[0]: dependency cycle: pair-a -> pair-b -> pair-a (remove one of these dependsOn entries)`,
    ]);
  });

  it('does not call a dependency unknown when that check exists but is invalid (its own problem is reported)', async () => {
    const { folder, shown } = await files({ 'a.yaml': `checks:\n${tcp('db', '    colour: red\n')}${tcp('app', '    dependsOn: [db]\n')}` });
    expect(await problemsOf(folder)).toEqual([`${shown('a.yaml')}:6:5: checks[0].colour: unknown key "colour" (accepted: name, description, interval, schedule, timeout, labels, allowTargets, dependsOn, maintenance, type, host, port, resolve, endpointsFrom, ipProtocol, ipProtocolFallback)`]);
  });

  it('rejects a malformed name in dependsOn through the schema', async () => {
    const { folder, shown } = await files({ 'a.yaml': `checks:\n${tcp('app', '    dependsOn: [Hub_DB]\n')}` });
    expect(await problemsOf(folder)).toEqual([`${shown('a.yaml')}:6:17: checks[0].dependsOn[0]: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "Hub_DB")`]);
  });

  it('a long chain loads, and closing it into a cycle names the whole cycle', async () => {
    const chain = Array.from({ length: 1000 }, (_, i) => `  - { name: c${i}, type: tcp, host: 127.0.0.1, port: 1${i > 0 ? `, dependsOn: [c${i - 1}]` : ''} }\n`).join('');
    const ok = await files({ 'chain.yaml': `checks:\n${chain}` });
    expect(await problemsOf(ok.folder)).toEqual([]);
    const closed = await files({ 'chain.yaml': `checks:\n${chain.replace('port: 1 }', 'port: 1, dependsOn: [c999] }')}` });
    const problems = await problemsOf(closed.folder);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^[^:]+:2:\d+: checks\[0\]\.dependsOn\[0\]: dependency cycle: c0 -> c999 -> c998 -> .* -> c1 -> c0 \(remove/);
  });

  it('the shipped runbook: the gates through public DNS depend on hub-dns, the app gates on the rollout and the database', async () => {
    const checks = await loadChecks([join(ROOT, 'checks/inter-hub.yaml')], checkTypes);
    const deps = new Map(checks.map((c) => [c.spec.name, c.spec.dependsOn ?? []]));
    const app = checks.filter((c) => c.spec.type === 'http' || c.spec.type === 'openapi' || c.spec.type === 'ingress');
    expect(app.length).toBeGreaterThan(5);
    for (const check of app) {
      expect(deps.get(check.spec.name), check.spec.name).toEqual(expect.arrayContaining(['hub-rollout', 'hub-db']));
      // Public DNS: no pinned address. The ingress checks compare DNS with the ingress themselves.
      const throughDns = check.spec.type !== 'ingress' && !('resolve' in check.spec && check.spec.resolve !== undefined);
      expect(deps.get(check.spec.name)?.includes('hub-dns'), check.spec.name).toBe(throughDns);
    }
    for (const root of ['hub-dns', 'hub-rollout', 'hub-db']) expect(deps.get(root), root).toEqual([]);
  });

  it('driftwatch validate and run exit 2 on a cycle and an unknown dependency, naming file:line:col', async () => {
    const { folder, shown } = await files({ 'a.yaml': `checks:\n${tcp('a', '    dependsOn: [b]\n')}${tcp('b', '    dependsOn: [a, nope]\n')}` });
    for (const command of ['validate', 'run']) {
      const res = await runCli([command, '--checks', folder]);
      expect(res.code, command).toBe(2);
      expect(res.stderr, command).toContain(`${shown('a.yaml', ROOT)}:6:17: checks[0].dependsOn[0]: dependency cycle: a -> b -> a (remove one of these dependsOn entries)`);
      expect(res.stderr, command).toContain(`${shown('a.yaml', ROOT)}:11:20: checks[1].dependsOn[1]: unknown check "nope" (no check of that name in the loaded files)`);
    }
  });
});
