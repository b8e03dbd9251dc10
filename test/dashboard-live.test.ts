import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildApi } from '../src/api/server.js';
import { CHECK_TYPES, type CheckTypeName } from '../src/checks/registry.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { FAMILIES } from '../src/results/families.js';
import type { Result } from '../src/results/result.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer, type Route } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startKubeApi } from './peers/kube-api.js';
import { cnpgCluster, deployment, secret } from './peers/kube-objects.js';
import { endpointSlice, podEndpoint } from './peers/kube-endpoints.js';
import { helmReleaseSecret } from './peers/helm-objects.js';
import { startPostgres, type PostgresPeer } from './peers/postgres.js';
import { startRegistry, type RegistryPeer } from './peers/registry.js';
import { startGrpcPeer, type GrpcPeer } from './peers/grpc.js';
import { memoryLogger } from './support/checks.js';
import { GRAFANA_FILES, grafanaMetricNames, metricNames, prometheusRuleExpressions, readGrafanaExpressions } from './support/promql.js';

/**
 * The dashboard, the Grafana alert rules and the Prometheus rules read only metric names a live
 * daemon exports: one check of every type runs once against real peers on loopback (Knot, a pair
 * of HTTPS servers on 127.0.0.2 / 127.0.0.3 under one hostname, PostgreSQL 15, the stand-in
 * Kubernetes API), and the names are looked up in the daemon's own GET /metrics. grafana.test.ts
 * checks the same names offline against a list; this one needs no list.
 *
 * Every check passes except the ingress check, which is arranged to fail the way the incident
 * did (public DNS points at the stale host): driftwatch_check_failures_total only has series once
 * some check has failed.
 */

const ZONE = 'driftwatch.test';
const IMAGE = 'registry.driftwatch.test/inter-hub';
const OPENAPI = {
  openapi: '3.0.3',
  info: { title: 'inter-hub', version: '2.4.0' },
  paths: { '/api/v2/hubs': { get: { responses: {} } }, '/health': { get: { responses: {} } } },
};
const INGRESS_ROUTES: Record<string, Route> = {
  '/api/v2/hubs': { status: 401, body: 'unauthorized' },
  '/api/v2/openapi.json': { body: OPENAPI },
  '/health': { body: 'ok' },
};
const STALE_ROUTES: Record<string, Route> = { '/api/v2/hubs': { status: 404, body: 'old api' } };

type CheckEntry<T extends CheckTypeName> = { name: string; type: T } & Record<string, unknown>;
/** Keyed by type, so the compiler insists on one check of every type. */
type CheckTable = { [T in CheckTypeName]: CheckEntry<T> };
type Expected = Pick<Result, 'ok' | 'reason'>;

/** The check file: one check of every type, each pointed at its peer. */
function checkTable(peers: { certs: Certificates; knot: Knot; ingress: HttpsPeer; postgres: PostgresPeer; registry: RegistryPeer; grpc: GrpcPeer; passwordFile: string; kubeconfig: string }): CheckTable {
  const { certs, knot, ingress, postgres, registry, grpc, kubeconfig } = peers;
  const hubUrl = (path: string) => ingress.url(path, certs.hostname);
  return {
    // Every ready endpoint of the Service (one: the ingress's address) accepts a connection: driftwatch_endpoints.
    tcp: { name: 'hub-port', type: 'tcp', host: ingress.host, port: ingress.port, endpointsFrom: { namespace: 'inter-hub', service: 'hub', kubeconfig } },
    http: { name: 'hub-health', type: 'http', url: hubUrl('/health'), resolve: ingress.host, ca: certs.caPath, expect: { status: 200, certMinDaysValid: 14 } },
    tls: { name: 'hub-cert', type: 'tls', host: certs.hostname, port: ingress.port, resolve: ingress.host, ca: certs.caPath },
    dns: { name: 'status-dns', type: 'dns', query: `status.${ZONE}`, resolvers: [knot.address], expect: { answers: ['127.0.0.2'], excludes: ['127.0.0.3'] } },
    ingress: { name: 'hub-ingress', type: 'ingress', url: hubUrl('/api/v2/hubs'), ingress: [ingress.host], resolvers: [knot.address], ca: certs.caPath, expect: { status: [401] } },
    // dependsOn gives the check its driftwatch_check_blocked series (runNow runs it regardless).
    openapi: { name: 'hub-openapi', type: 'openapi', url: hubUrl('/api/v2/openapi.json'), resolve: ingress.host, ca: certs.caPath, expect: { paths: ['GET /api/v2/hubs', '/health'], title: 'inter-hub' }, dependsOn: ['hub-health'] },
    postgres: {
      name: 'hub-db', type: 'postgres', host: postgres.host, port: postgres.port, database: postgres.database, user: postgres.user,
      password: { file: peers.passwordFile }, sslmode: 'verify-full', ca: postgres.caPath, expect: { primary: true },
    },
    'k8s-rollout': { name: 'hub-rollout', type: 'k8s-rollout', namespace: 'inter-hub', resource: 'deployment/hub', expect: { image: IMAGE, tag: 'abc123' } },
    'cnpg-cluster': { name: 'hub-pg-cluster', type: 'cnpg-cluster', namespace: 'databases', cluster: 'hub-pg' },
    'k8s-secret': { name: 'hub-env', type: 'k8s-secret', namespace: 'inter-hub', secret: 'inter-hub-env', expect: { keys: ['DATABASE_URL', 'SESSION_SECRET'] } },
    'helm-release': { name: 'hub-helm', type: 'helm-release', namespace: 'inter-hub', release: 'inter-hub' },
    'oci-image': { name: 'hub-image', type: 'oci-image', image: `${registry.host}/inter-hub:abc123`, resolve: '127.0.0.1', ca: certs.caPath },
    // Two steps passing a value on: the document's title, then the health page with it as a header.
    flow: {
      name: 'hub-flow', type: 'flow',
      steps: [
        { name: 'read-openapi', url: hubUrl('/api/v2/openapi.json'), resolve: ingress.host, ca: certs.caPath, capture: { title: { json: 'info.title', public: true } } },
        { name: 'health', url: hubUrl('/health'), resolve: ingress.host, ca: certs.caPath, headers: { 'X-Title': '{captures.title}' }, expect: { status: 200 } },
      ],
    },
    grpc: { name: 'hub-grpc', type: 'grpc', target: `${certs.hostname}:${grpc.port}`, resolve: '127.0.0.1', ca: certs.caPath, expect: { certMinDaysValid: 14 } },
  };
}

const EXPECTED: Record<CheckTypeName, Expected> = {
  tcp: { ok: true },
  http: { ok: true },
  tls: { ok: true },
  dns: { ok: true },
  ingress: { ok: false, reason: 'dns' },
  openapi: { ok: true },
  postgres: { ok: true },
  'k8s-rollout': { ok: true },
  'cnpg-cluster': { ok: true },
  'k8s-secret': { ok: true },
  'oci-image': { ok: true },
  'helm-release': { ok: true },
  flow: { ok: true },
  grpc: { ok: true },
};

/** What the text exposition holds: each family's kind from its `# TYPE` line, and every sample's metric name. */
interface Exposition {
  families: Map<string, string>;
  samples: Set<string>;
}

function readExposition(text: string): Exposition {
  const families = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][\w:]*) (\w+)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) families.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample?.[1] !== undefined) samples.add(sample[1]);
  }
  return { families, samples };
}

/** A series name as a query reads it, found in the exposition: its own family, or a histogram's _bucket/_sum/_count. */
function exported(name: string, exposition: Exposition): boolean {
  const histogram = /^(.+)_(?:bucket|sum|count)$/.exec(name)?.[1];
  const family = exposition.families.has(name) ? name : histogram !== undefined && exposition.families.get(histogram) === 'histogram' ? histogram : undefined;
  return family !== undefined && exposition.samples.has(name);
}

describe('the dashboard and the alerts against a live /metrics', { timeout: 60_000 }, () => {
  const opened: { close(): Promise<void> }[] = [];
  let dir: string | undefined;
  let daemon: Daemon | undefined;
  let app: FastifyInstance | undefined;
  let results: Result[];
  let metricsText: string;

  beforeAll(async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'driftwatch-dashboard-live-'));
    dir = tmp;
    const certs = await mintCertificates();
    opened.push(certs);
    // Public DNS gives the stale host for the hub (the incident), the right address for status.
    const starting = [startKnot({ zones: { [ZONE]: ['hub 300 A 127.0.0.3', 'status 300 A 127.0.0.2'] } }), startKubeApi(), startPostgres(), startRegistry(certs, 'none'), startGrpcPeer({ behaviour: 'serving', tls: { cert: certs.leaf.cert, key: certs.leaf.key } })] as const;
    const pairStarting = startPair(certs.leaf, opened);
    // allSettled: whatever started gets closed in afterAll even when another peer failed.
    const pairSettled = Promise.allSettled([pairStarting]);
    const started = await Promise.allSettled(starting);
    for (const peer of started) if (peer.status === 'fulfilled') opened.push(peer.value);
    for (const peer of [...started, ...(await pairSettled)]) if (peer.status === 'rejected') throw peer.reason;
    const [knot, kube, postgres, registry, grpc] = await Promise.all(starting);
    await registry.push('inter-hub', 'abc123');
    const { ingress } = await pairStarting;

    kube.put(deployment('inter-hub', 'hub', { image: `${IMAGE}:abc123`, replicas: 2 }));
    kube.put(cnpgCluster('databases', 'hub-pg', 3));
    kube.put(endpointSlice('inter-hub', 'hub', { name: 'https', port: ingress.port }, [podEndpoint('inter-hub', 'hub-7c9d-a1', ingress.host, 'n1')]));
    kube.put(helmReleaseSecret('inter-hub', 'inter-hub', 1, { status: 'deployed' }));
    kube.put(secret('inter-hub', 'inter-hub-env', { DATABASE_URL: 'postgres://app@hub-pg-rw.databases:5432/app', SESSION_SECRET: 'canary-dashboard-live' }));
    const passwordFile = join(tmp, 'pg-password');
    await writeFile(passwordFile, `${postgres.password}\n`, { mode: 0o600 });

    const kubeconfig = await kube.writeKubeconfig();
    const table = checkTable({ certs, knot, ingress, postgres, registry, grpc, passwordFile, kubeconfig });
    const checks = CHECK_TYPES.map((type) => table[type]);
    const file = join(tmp, 'checks.yaml');
    const defaults = { interval: '1h', timeout: '10s', labels: { service: 'hub' }, kubeconfig };
    await writeFile(file, stringify({ defaults, checks }));

    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    expect(await daemon.load()).toBe(CHECK_TYPES.length);
    const live = daemon;
    results = (await Promise.all(checks.map((check) => live.runNow(check.name)))).map((run) => run.result);
    // A deploy window over one check, as a rollout would open (after the runs: a pass would close it as converged): the alert rules read its series
    // (driftwatch_check_window, driftwatch_windows_unconverged_total), which exist only then.
    expect(live.windows.open({ checks: [checks[0]?.name ?? ''], release: 'live', untilMs: Date.now() + 600_000, openedBy: 'api' })).toMatchObject({ kind: 'deploy' });
    app = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test' });
    const response = await app.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    metricsText = response.body;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await daemon?.stop(1000);
    await Promise.all(opened.map((peer) => peer.close()));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('ran one check of every type, each with the result its peer was arranged to give', () => {
    const byType = Object.fromEntries(results.map((r) => [r.type, r.ok ? { ok: true } : { ok: false, reason: r.reason }]));
    const report = results.map((r) => `${r.type} ${r.name}: ${r.ok ? 'ok' : (r.reason ?? '?')}: ${r.message}`).join('\n');
    expect(byType, report).toEqual(EXPECTED);
    expect(results.find((r) => r.type === 'ingress')?.message).toBe(
      `DNS drift: hub.${ZONE} resolves to 127.0.0.3 (expected 127.0.0.2); the ingress answers 401 as expected, the public address answers 404`,
    );
  });

  it('exports every metric name the dashboard, the Grafana alerts and the Prometheus rules read', async () => {
    const rules = prometheusRuleExpressions(parse(await readFile(GRAFANA_FILES.prometheusRules, 'utf8')));
    const used = [...grafanaMetricNames(), ...rules.flatMap((e) => metricNames(e.expr))];
    // A parse that found nothing would pass vacuously.
    expect(rules.length).toBeGreaterThan(0);
    expect(new Set(used).size).toBeGreaterThan(15);
    // runNow bypasses the scheduler, so driftwatch_scheduler_lag_seconds is exported with zero
    // observations (its series exist at 0): the name is checked, not a value.
    const exposition = readExposition(metricsText);
    const missing = [...new Set(used)].filter((name) => !exported(name, exposition)).sort();
    const where = missing.length === 0 ? [] : [...readGrafanaExpressions(), ...rules];
    const listing = missing.map((name) => `${name} (read by ${where.filter((e) => metricNames(e.expr).includes(name)).map((e) => e.source).join('; ')})`);
    expect(missing, `not in the live /metrics:\n${listing.join('\n')}`).toEqual([]);
  });

  it('exports every per-check family, so every type really contributed its series', () => {
    // All 18 families appear with this arrangement: driftwatch_check_failures_total through the
    // failing ingress check, driftwatch_endpoints through the tcp check's endpointsFrom, driftwatch_k8s_image_match through the rollout's image expectation,
    // driftwatch_check_blocked through the openapi check's dependsOn.
    const { families } = readExposition(metricsText);
    const missing = Object.entries(FAMILIES)
      .filter(([name, family]) => families.get(name) !== family.kind)
      .map(([name, family]) => `${name} (${family.kind}, found ${families.get(name) ?? 'nothing'})`);
    expect(missing, `per-check families missing from the live /metrics:\n${missing.join('\n')}`).toEqual([]);
    expect(metricsText).toMatch(/^driftwatch_check_failures_total\{check="hub-ingress",type="ingress",service="hub",reason="dns"\} 1$/m);
    expect(metricsText).toMatch(new RegExp(`^driftwatch_checks ${CHECK_TYPES.length}$`, 'm'));
    expect(metricsText).toMatch(/^driftwatch_check_blocked\{check="hub-openapi",type="openapi",service="hub"\} 0$/m);
  });
});

/** The ingress on 127.0.0.2 and the stale host on 127.0.0.3, on one port (a URL has one). */
async function startPair(tls: { cert: string; key: string }, opened: { close(): Promise<void> }[]): Promise<{ ingress: HttpsPeer; stale: HttpsPeer }> {
  for (let attempt = 1; ; attempt++) {
    const ingress = await startHttpsPeer({ host: '127.0.0.2', tls, routes: INGRESS_ROUTES });
    opened.push(ingress);
    try {
      const stale = await startHttpsPeer({ host: '127.0.0.3', port: ingress.port, tls, routes: STALE_ROUTES });
      opened.push(stale);
      return { ingress, stale };
    } catch (err) {
      // Another process took the port on 127.0.0.3: try another one.
      opened.splice(opened.indexOf(ingress), 1);
      await ingress.close();
      if (attempt >= 5) throw err;
    }
  }
}
