import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART, startHelm, type Helm, type Rendered } from './support/helm.js';
import { schemaProblems } from './support/kube-schema.js';
import { HELM_VERSIONS } from './support/tools.js';

/**
 * Every object the chart renders, with every optional template on (test/fixtures/
 * chart-values-all.yaml), valid against its Kubernetes or CRD schema (kubernetes-models and its
 * prometheus-operator and Argo Rollouts packages), unknown fields refused; and the Kubernetes
 * YAML under examples/ likewise.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ALL = join(ROOT, 'test/fixtures/chart-values-all.yaml');
const EXAMPLE = join(CHART, 'examples/inter-hub-values.yaml');

async function problemsOf(out: Rendered): Promise<string[]> {
  const problems: string[] = [];
  for (const [index, object] of out.objects.entries()) {
    for (const problem of await schemaProblems(object)) problems.push(`${out.sources[index] ?? '?'}: ${object.kind} ${object.metadata.name}: ${problem}`);
  }
  return problems;
}

describe('the schema check itself', () => {
  const deployment = () => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: 'b' } },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] } } },
  });

  it('passes a valid object and refuses a misspelled field, naming its path', async () => {
    expect(await schemaProblems(deployment())).toEqual([]);
    const typo = deployment();
    Object.assign(typo.spec.template.spec.containers[0] ?? {}, { imagex: 'i' });
    expect(await schemaProblems(typo)).toEqual(['/spec/template/spec/containers/0/imagex: unknown field']);
    const nested = deployment();
    Object.assign(nested.spec, { strategy: { rollingUpdate: { maxSurge: 1, maxUnavialable: 0 } } });
    expect(await schemaProblems(nested)).toEqual(['/spec/strategy/rollingUpdate/maxUnavialable: unknown field']);
  });

  it('refuses a wrong type, a misspelled CRD field and an unknown kind', async () => {
    const wrongType = deployment();
    Object.assign(wrongType.spec, { replicas: 'two' });
    expect((await schemaProblems(wrongType)).join('\n')).toContain('/spec/replicas');
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' }, spec: { selector: {}, endpoints: [{ port: 'http', honourLabels: true }] } };
    expect(await schemaProblems(monitor)).toEqual(['/spec/endpoints/0/honourLabels: unknown field']);
    const template = { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: 't' }, spec: { metrics: [{ name: 'm', provider: { web: { url: 'http://x/' } }, succesCondition: 'true' }] } };
    expect(await schemaProblems(template)).toEqual(['/spec/metrics/0/succesCondition: unknown field']);
    expect(await schemaProblems({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).toEqual(['no schema for apps/v1 Deploymnet']);
  });
});

describe.each(HELM_VERSIONS)('rendered by helm %s: every object valid against its schema', { timeout: 120_000 }, (version) => {
  let helm: Helm;
  beforeAll(async () => {
    helm = await startHelm(version);
  });
  afterAll(async () => {
    await helm.close();
  });

  it('with every optional template on (test/fixtures/chart-values-all.yaml), unsharded and sharded', async () => {
    for (const sharded of [false, true]) {
      const out = await helm.render({ valuesFiles: [ALL], values: [{ sharding: { enabled: sharded } }] });
      expect(out.find(sharded ? 'StatefulSet' : 'Deployment')).toHaveLength(1);
      expect(await problemsOf(out)).toEqual([]);
      if (sharded) continue;
      // Every template renders something here: a new optional template needs its switch in the fixture.
      const templates = (await readdir(join(CHART, 'templates'), { recursive: true })).filter((file) => file.endsWith('.yaml')).map((file) => `driftwatch/templates/${file}`);
      expect(templates.filter((file) => !out.sources.includes(file))).toEqual([]);
    }
  });

  it('with the inter-hub example and the runbook', async () => {
    const out = await helm.render({ valuesFiles: [EXAMPLE], args: ['--set-file', `checks.inter-hub=${join(ROOT, 'checks/inter-hub.yaml')}`] });
    expect(out.objects.length).toBeGreaterThan(8);
    expect(await problemsOf(out)).toEqual([]);
  });
});

describe('Kubernetes YAML under examples/', () => {
  it('every object (a document with apiVersion and kind) is valid against its schema', async () => {
    const files = (await readdir(join(ROOT, 'examples'), { recursive: true })).filter((file) => /\.ya?ml$/.test(file));
    const problems: string[] = [];
    for (const file of files) {
      for (const doc of parseAllDocuments(await readFile(join(ROOT, 'examples', file), 'utf8'))) {
        const object: unknown = doc.toJS();
        if (typeof object !== 'object' || object === null || !('apiVersion' in object) || !('kind' in object)) continue;
        // No schema package has Flagger's Canary (kubernetes-models has none); gate-flagger.test.ts
        // reads this example and sends its webhook's payload to the real endpoint instead.
        if (file === 'flagger/canary.yaml' && 'kind' in object && object.kind === 'Canary') continue;
        for (const problem of await schemaProblems(object)) problems.push(`${relative(ROOT, join(ROOT, 'examples', file))}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
