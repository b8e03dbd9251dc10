import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './support/cli.js';
import { CHART, startHelm, type Helm, type KubeObject, type Rendered, type RenderOptions } from './support/helm.js';
import { deriveKubeLists, deriveKubeReads, type KubeLists, type KubeReads } from './support/kube-reads.js';
import { HELM_VERSIONS } from './support/tools.js';
import { list, record, secretRefs } from './support/values-tree.js';

/**
 * charts/driftwatch rendered by the real helm (`helm template`, Helm 4.1 and Helm 3.17): the values
 * the templates read, RBAC derived from the checks, the workload, and the monitoring objects.
 * Chart files: test/chart-files.test.ts; schema, lint, NOTES and the README's command: test/helm-*.test.ts.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(CHART, 'examples/inter-hub-values.yaml');
const RUNBOOK = join(ROOT, 'checks/inter-hub.yaml');

// What the inter-hub checks get by name: the rollout, the CNPG cluster, the runtime Secret.
const INTER_HUB_READS: KubeReads = {
  'inter-hub': { 'apps/deployments': ['inter-hub'], '/secrets': ['inter-hub-env'] },
  databases: { 'postgresql.cnpg.io/clusters': ['net-kingdom-pg'] },
};

const readYaml = async (path: string): Promise<unknown> => parse(await readFile(path, 'utf8'));

describe.each(HELM_VERSIONS)('charts/driftwatch rendered by helm %s', { timeout: 120_000 }, (version) => {
  let helm: Helm;
  let runbook: string;
  // One helm run per distinct values set: the assertions share it.
  const cache = new Map<string, Promise<Rendered>>();
  const render = (options: RenderOptions): Promise<Rendered> => {
    const key = JSON.stringify(options);
    let out = cache.get(key);
    if (out === undefined) cache.set(key, (out = helm.render(options)));
    return out;
  };
  // The worked example as the README installs it: -f the example values, --set-file the runbook.
  // (The runbook goes in as a values file, not --set-file, so later values files can replace it.)
  const interHub = (...values: object[]) => render({ valuesFiles: [EXAMPLE], values: [{ checks: { 'inter-hub': runbook } }, ...values] });

  beforeAll(async () => {
    helm = await startHelm(version);
    runbook = await readFile(RUNBOOK, 'utf8');
  });
  afterAll(async () => {
    await helm.close();
  });
  it('RBAC for the shipped inter-hub checks: get on exactly the objects they read, by name, in their namespaces', async () => {
    const out = await interHub();
    expect(readsOf(out.find('Role'))).toEqual(INTER_HUB_READS);
    // hub-rollout-digest lists the pods, hub-helm Helm's release Secrets.
    expect(rulesOf(out.find('Role')).lists).toEqual({ 'inter-hub': ['/pods', '/secrets'] });
    expect(deriveKubeLists([runbook])).toEqual({ 'inter-hub': ['/pods', '/secrets'] });
    expect(out.find('ClusterRole')).toEqual([]);
    expect(out.find('ClusterRoleBinding')).toEqual([]);
    expect(out.find('RoleBinding').map((b) => b.metadata.namespace).sort()).toEqual(Object.keys(INTER_HUB_READS).sort());
    for (const binding of out.find('RoleBinding')) {
      expect(binding).toMatchObject({
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'driftwatch-driftwatch-checks' },
        subjects: [{ kind: 'ServiceAccount', name: 'driftwatch', namespace: 'driftwatch' }],
      });
    }
    expect(out.find('ServiceAccount')[0]).toMatchObject({ metadata: { name: 'driftwatch', namespace: 'driftwatch' } });
    expect(podSpec(out)).toMatchObject({ serviceAccountName: 'driftwatch', automountServiceAccountToken: true });
    // The independent TypeScript derivation agrees on the same checks.
    expect(deriveKubeReads([runbook])).toEqual(INTER_HUB_READS);
  });

  it('the example gives the shipped checks every secret and CA file they reference', async () => {
    const out = await interHub();
    const [container] = list(podSpec(out).containers).map(record);
    const envNames = list(container?.env).map((e) => record(e).name);
    const mounts = list(container?.volumeMounts).map((m) => String(record(m).mountPath));
    const { envs, files } = secretRefs(parse(runbook));
    expect(envs.length + files.length).toBeGreaterThan(0);
    expect(envs.filter((name) => !envNames.includes(name))).toEqual([]);
    expect(files.filter((file) => !mounts.some((mount) => file.startsWith(`${mount}/`)))).toEqual([]);
  });

  it("users' own checks: kind aliases, ingressFrom Services, own kubeconfigs and repeated names", async () => {
    const own = [
      'checks:',
      '  - { name: a, type: k8s-rollout, namespace: shop, resource: sts/db }',
      '  - { name: b, type: k8s-rollout, namespace: shop, resource: daemonsets.apps/agent }',
      '  - { name: c, type: k8s-rollout, namespace: shop, resource: deploy/web }',
      '  - { name: d, type: k8s-secret, namespace: shop, secret: web-env }',
      '  - { name: e, type: k8s-secret, namespace: shop, secret: db-env }',
      '  - { name: f, type: ingress, url: "https://shop.example/", ingressFrom: { namespace: kube-system, service: traefik } }',
      '  - { name: g, type: k8s-secret, namespace: other, secret: x, kubeconfig: /etc/kube/other.yaml }',
      '  - { name: h, type: tcp, host: 127.0.0.1, port: 1 }',
      // A flow step pinned to a Service's ingress reads that Service too.
      '  - { name: l, type: flow, steps: [{ name: s1, url: "https://shop.example/", ingressFrom: { namespace: ingress-nginx, service: controller } }] }',
    ].join('\n');
    const elsewhere = [
      'defaults: { context: prod-admin }',
      'checks:',
      '  - { name: i, type: cnpg-cluster, namespace: databases, cluster: pg }',
      // File defaults do not reach inside ingressFrom: this one uses the service account.
      '  - { name: j, type: ingress, url: "https://a.example/", ingressFrom: { namespace: edge, service: lb } }',
      '  - { name: k, type: ingress, url: "https://b.example/", ingressFrom: { namespace: edge, service: other, context: edge-admin } }',
    ].join('\n');
    const out = await render({ valuesFiles: [EXAMPLE], values: [{ checks: { shop: own, elsewhere } }] });
    const expected: KubeReads = {
      shop: { 'apps/statefulsets': ['db'], 'apps/daemonsets': ['agent'], 'apps/deployments': ['web'], '/secrets': ['db-env', 'web-env'] },
      'kube-system': { '/services': ['traefik'] },
      edge: { '/services': ['lb'] },
      'ingress-nginx': { '/services': ['controller'] },
    };
    expect(readsOf(out.find('Role'))).toEqual(expected);
    expect(deriveKubeReads([own, elsewhere])).toEqual(expected);
    // They are real check files: driftwatch itself accepts them.
    await expect(validateFiles(configMapData(out))).resolves.toMatchObject({ code: 0, stdout: 'ok: 12 checks in 2 files\n' });
  });

  it('list only where a check cannot name what it reads: the pods of a digestFrom rollout, Helm\'s release Secrets', async () => {
    const own = [
      'checks:',
      '  - { name: a, type: k8s-rollout, namespace: shop, resource: deploy/web, expect: { digestFrom: img } }',
      '  - { name: img, type: oci-image, image: "registry.example/shop/web:v1" }',
      '  - { name: b, type: k8s-rollout, namespace: other, resource: deploy/api }',
      '  - { name: c, type: helm-release, namespace: shop, release: web }',
      '  - { name: d, type: helm-release, namespace: charts, release: api }',
      '  - { name: e, type: k8s-rollout, namespace: elsewhere, resource: deploy/x, kubeconfig: /etc/kube/x.yaml, expect: { digestFrom: img } }',
      '  - { name: f, type: helm-release, namespace: elsewhere, release: x, kubeconfig: /etc/kube/x.yaml }',
      // Every endpoint of a Service: its EndpointSlices are listed (no name to get them by).
      '  - { name: g, type: http, url: "https://shop.example/", endpointsFrom: { namespace: shop, service: web } }',
      '  - { name: h, type: tcp, host: db, port: 5432, endpointsFrom: { namespace: elsewhere, service: db, kubeconfig: /etc/kube/x.yaml } }',
    ].join('\n');
    const out = await render({ valuesFiles: [EXAMPLE], values: [{ checks: { own } }] });
    const expected = { reads: { shop: { 'apps/deployments': ['web'] }, other: { 'apps/deployments': ['api'] } }, lists: { shop: ['/pods', '/secrets', 'discovery.k8s.io/endpointslices'], charts: ['/secrets'] } };
    expect(rulesOf(out.find('Role'))).toEqual(expected);
    expect({ reads: deriveKubeReads([own]), lists: deriveKubeLists([own]) }).toEqual(expected);
    expect(out.find('RoleBinding').map((b) => b.metadata.namespace).sort()).toEqual(['charts', 'other', 'shop']);
    // Only lists, no gets: the pod still needs its service account token.
    const listsOnly = await render({ valuesFiles: [EXAMPLE], values: [{ checks: { own: 'checks:\n  - { name: c, type: helm-release, namespace: shop, release: web }\n' } }] });
    expect(podSpec(listsOnly).automountServiceAccountToken).toBe(true);
    await expect(validateFiles(configMapData(out))).resolves.toMatchObject({ code: 0 });
  });

  it('no Kubernetes checks: no Roles and no service account token in the pod', async () => {
    const out = await render({ valuesFiles: [EXAMPLE], values: [{ checks: { up: 'checks:\n  - { name: up, type: tcp, host: 127.0.0.1, port: 1 }\n' } }] });
    expect(out.find('Role')).toEqual([]);
    expect(podSpec(out).automountServiceAccountToken).toBe(false);
  });

  it('the workload: a hardened pod with probes, the token as a file, each check file named, location and release as flags', async () => {
    const out = await interHub({ release: '6455902', extraArgs: ['--concurrency=32'] });
    expect(out.find('StatefulSet')).toEqual([]);
    const [deployment] = out.find('Deployment', 'driftwatch');
    expect(deployment).toMatchObject({ spec: { replicas: 2, strategy: { rollingUpdate: { maxUnavailable: 0 } } } });
    const pod = podSpec(out);
    const dockerUser = /^USER (\d+):(\d+)$/m.exec(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: Number(dockerUser?.[1]), runAsGroup: Number(dockerUser?.[2]), fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    const [container] = list(pod.containers).map(record);
    expect(container?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container).toMatchObject({
      image: 'gitea.coulomb.social/coulomb/driftwatch:0.1.0',
      ports: [{ name: 'http', containerPort: 9147 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
    });
    expect(container?.args).toEqual([
      '--checks=/etc/driftwatch/checks/inter-hub.yaml',
      '--listen=0.0.0.0:9147',
      '--api-token-file=/var/run/driftwatch/api-token/token',
      '--log-level=info',
      '--grace=10s',
      '--location=coulombcore',
      '--release=6455902',
      '--concurrency=32',
    ]);
    expect(container?.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'checks', mountPath: '/etc/driftwatch/checks', readOnly: true },
      { name: 'api-token', mountPath: '/var/run/driftwatch/api-token', readOnly: true },
    ]));
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'checks', configMap: { name: 'driftwatch-checks', defaultMode: 0o444 } },
      { name: 'api-token', secret: { secretName: 'driftwatch-api', items: [{ key: 'token', path: 'token' }], defaultMode: 0o440 } },
    ]));
    expect(configMapData(out)).toEqual({ 'inter-hub.yaml': runbook });
    expect(out.find('Service')[0]).toMatchObject({ spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 9147, targetPort: 'http' }] } });
    expect(out.find('PodDisruptionBudget')[0]).toMatchObject({ spec: { maxUnavailable: 1 } });
    expect(out.find('NetworkPolicy')[0]).toMatchObject({ spec: { policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 9147, protocol: 'TCP' }] }] } });
  });

  it('sharded: a StatefulSet of N pods, each taking its shard from its ordinal', async () => {
    const out = await interHub({ replicas: 3, sharding: { enabled: true } });
    expect(out.find('Deployment')).toEqual([]);
    const [set] = out.find('StatefulSet', 'driftwatch');
    expect(set).toMatchObject({ spec: { replicas: 3, serviceName: 'driftwatch', podManagementPolicy: 'Parallel' } });
    const [container] = list(podSpec(out).containers).map(record);
    expect(container?.args).toContain('--shard=ordinal/3');
  });

  it('a changed check file changes the checksum annotation (the pods roll); other values leave it alone', async () => {
    const checksum = async (values: object[]) => {
      const out = await interHub(...values);
      return record(record(record(podTemplate(out).metadata).annotations))['checksum/checks'];
    };
    const base = await checksum([]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum([{ location: 'external', release: 'abc1234' }])).toBe(base);
    const changed = `${runbook}  - { name: extra, type: tcp, host: 127.0.0.1, port: 1 }\n`;
    expect(await checksum([{ checks: { 'inter-hub': changed } }])).not.toBe(base);
  });

  it('ServiceMonitor honors the checks\' own labels; PrometheusRule carries the rule groups of the Grafana rules file', async () => {
    const out = await interHub();
    const [monitor] = out.find('ServiceMonitor', 'driftwatch');
    expect(monitor).toMatchObject({
      metadata: { labels: { release: 'kube-prometheus-stack' } },
      spec: { endpoints: [{ port: 'http', path: '/metrics', honorLabels: true }] },
    });
    const [rule] = out.find('PrometheusRule', 'driftwatch');
    const original = record(await readYaml(join(ROOT, 'grafana/prometheus/driftwatch-rules.yaml')));
    expect(record(rule?.spec).groups).toEqual(original.groups);
    const disabled = await interHub({ serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } });
    expect([...disabled.find('ServiceMonitor'), ...disabled.find('PrometheusRule')]).toEqual([]);
  });

  it('refuses to render without an API token Secret, without checks, or with a malformed rollout resource', async () => {
    await expect(helm.render({ values: [{ checks: { x: 'checks: []\n' } }] })).rejects.toThrow(/apiToken\.existingSecret is required/);
    await expect(helm.render({ valuesFiles: [EXAMPLE] })).rejects.toThrow(/checks is empty/);
    const bad = 'checks:\n  - { name: r, type: k8s-rollout, namespace: a, resource: pod/x }\n';
    await expect(render({ valuesFiles: [EXAMPLE], values: [{ checks: { 'inter-hub': bad } }] })).rejects.toThrow(/checks\.inter-hub: checks\[0\] \(r\): resource kind must be deployment, statefulset or daemonset, got "pod"/);
  });

  it('the rendered ConfigMap holds valid driftwatch check files (driftwatch validate)', async () => {
    const result = await validateFiles(configMapData(await interHub()));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: \d+ checks in 1 file\n$/);
  });
});

/** `driftwatch validate` (the built CLI) on these check files, written to a temporary folder. */
async function validateFiles(files: Record<string, unknown>): Promise<CliResult> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-chart-checks-'));
  try {
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), String(text));
    return await runCli(['validate', '--checks', dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The rendered Roles' get rules as namespace -> "group/resource" -> names (see rulesOf). */
function readsOf(roles: KubeObject[]): KubeReads {
  return rulesOf(roles).reads;
}

/**
 * The rendered Roles: every rule is either a plain get on named objects (resourceNames) or a
 * plain list of one resource, one group and one resource per rule, nothing else.
 */
function rulesOf(roles: KubeObject[]): { reads: KubeReads; lists: KubeLists } {
  const reads: KubeReads = {};
  const lists: KubeLists = {};
  for (const role of roles) {
    const namespace = role.metadata.namespace ?? '';
    for (const rule of list(role.rules).map(record)) {
      const [group, ...moreGroups] = list(rule.apiGroups);
      const [resource, ...moreResources] = list(rule.resources);
      expect([...moreGroups, ...moreResources]).toEqual([]);
      const key = `${String(group)}/${String(resource)}`;
      if (rule.resourceNames === undefined) {
        expect(rule.verbs).toEqual(['list']);
        (lists[namespace] ??= []).push(key);
        continue;
      }
      expect(rule.verbs).toEqual(['get']);
      expect(list(rule.resourceNames).length).toBeGreaterThan(0);
      (reads[namespace] ??= {})[key] = list(rule.resourceNames).map(String);
    }
  }
  return { reads, lists };
}

function podTemplate(out: { find(kind: string): KubeObject[] }): Record<string, unknown> {
  const [workload, ...more] = [...out.find('Deployment'), ...out.find('StatefulSet')];
  expect(more).toEqual([]);
  return record(record(workload?.spec).template);
}

function podSpec(out: { find(kind: string): KubeObject[] }): Record<string, unknown> {
  return record(podTemplate(out).spec);
}

function configMapData(out: { find(kind: string): KubeObject[] }): Record<string, unknown> {
  const [configMap] = out.find('ConfigMap');
  return record(configMap?.data);
}
