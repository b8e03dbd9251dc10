import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CHART } from './support/helm.js';
import { hasPath, record, schemaLeaves } from './support/values-tree.js';

/** charts/driftwatch's files against each other and the repository: nothing rendered here. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readYaml = async (path: string): Promise<unknown> => parse(await readFile(path, 'utf8'));

describe('chart files', () => {
  it('ships an exact copy of grafana/prometheus/driftwatch-rules.yaml and the package version as appVersion', async () => {
    const copy = await readFile(join(CHART, 'files/driftwatch-rules.yaml'), 'utf8');
    expect(copy, 'cp grafana/prometheus/driftwatch-rules.yaml charts/driftwatch/files/').toBe(await readFile(join(ROOT, 'grafana/prometheus/driftwatch-rules.yaml'), 'utf8'));
    const chart = record(await readYaml(join(CHART, 'Chart.yaml')));
    const pkg = record(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')));
    expect(chart.appVersion).toBe(pkg.version);
  });

  it('every .Values path a template reads exists in values.yaml', async () => {
    const defaults = await readYaml(join(CHART, 'values.yaml'));
    const dir = join(CHART, 'templates');
    const used = new Set<string>();
    for (const file of (await readdir(dir, { recursive: true })).filter((name) => /\.(yaml|tpl|txt)$/.test(name))) {
      for (const match of (await readFile(join(dir, file), 'utf8')).matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) used.add((match[1] ?? '').slice(1));
    }
    expect(used.size).toBeGreaterThan(30);
    const missing = [...used].filter((path) => !hasPath(defaults, path.split('.')));
    expect(missing).toEqual([]);
  });

  it('the chart README documents every value the schema defines, and the schema every value', async () => {
    const defaults = await readYaml(join(CHART, 'values.yaml'));
    const schema: unknown = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8'));
    const readme = await readFile(join(CHART, 'README.md'), 'utf8');
    const leaves = schemaLeaves(schema);
    expect(leaves.filter((path) => !readme.includes(`\`${path}\``))).toEqual([]);
    expect(leaves.filter((path) => !hasPath(defaults, path.split('.')))).toEqual([]);
  });
});
