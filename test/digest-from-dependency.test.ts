import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTypes } from '../src/checks/registry.js';
import { loadChecks } from '../src/config/load.js';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { runCli } from './support/cli.js';
import { freePort } from './support/ports.js';

/**
 * A k8s-rollout check's `expect.digestFrom` names the oci-image check it reads the digest from:
 * that is a dependency like one in dependsOn, so `run` asks the registry first, and a registry
 * that is down blocks the rollout check instead of failing it a second time.
 */
describe('expect.digestFrom is a dependency', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-digest-dep-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rollout = (extra = '') =>
    ['  - name: hub-rollout', '    type: k8s-rollout', '    namespace: hub', '    resource: deployment/hub', `    kubeconfig: ${join(dir, 'no-such-kubeconfig')}`, '    expect: { digestFrom: hub-image }', extra].join('\n');

  it('run: a registry that is down blocks the rollout check that reads its digest', async () => {
    const port = await freePort(); // nothing listens there: the registry is down
    const file = join(dir, 'down.yaml');
    await writeFile(file, ['checks:', `  - { name: hub-image, type: oci-image, image: "127.0.0.1:${port}/coulomb/hub:abc123" }`, rollout(), ''].join('\n'));
    const res = await runCli(['run', '--checks', file, '--json']);
    expect(res.code, res.stderr).toBe(1);
    const report = JSON.parse(res.stdout) as { results: { name: string; ok: boolean; reason?: string; message: string; blocked?: { by: string[] } }[] };
    const byName = new Map(report.results.map((r) => [r.name, r]));
    expect(byName.get('hub-image')).toMatchObject({ ok: false, reason: 'connect' });
    // Without the implied dependency it would run and fail on its own (no kubeconfig: reason config).
    expect(byName.get('hub-rollout')).toMatchObject({ ok: false, blocked: { by: ['hub-image'] }, message: 'blocked: hub-image failed (connect)' });
    expect(byName.get('hub-rollout')?.reason).toBeUndefined();
  });

  it('a cycle through digestFrom and dependsOn is a config problem at the dependsOn entry', async () => {
    const file = join(dir, 'cycle.yaml');
    await writeFile(file, ['checks:', '  - name: hub-image', '    type: oci-image', '    image: registry.example/coulomb/hub:abc123', '    dependsOn: [hub-rollout]', rollout(), ''].join('\n'));
    const problems = await loadChecks([file], checkTypes).then(
      () => [],
      (err: unknown) => {
        if (err instanceof ConfigError) return err.problems.map(formatProblem);
        throw err;
      },
    );
    expect(problems).toEqual([`${relative(process.cwd(), file)}:5:17: checks[0].dependsOn[0]: dependency cycle: hub-image -> hub-rollout -> hub-image (remove one of these dependsOn entries)`]);
  });
});
