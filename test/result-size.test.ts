/**
 * Trust rounds 2 and 3: a result's serialised size has a fixed ceiling (MAX_RESULT_BYTES) for
 * every check type, whatever its target answers. Each case is a real peer on loopback answering
 * with huge text where that type's result would quote it (a 1 MB JSON value, a 1,000-name
 * certificate, 60 KB of DNS TXT answers, a 10 MB rollout condition, ...), run through the runner
 * with the debug record on (the largest form a result takes). The table must name every type.
 */
import { startGrpcPeer, type GrpcPeer } from './peers/grpc.js';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CHECK_TYPES } from '../src/checks/registry.js';
import { MAX_RESULT_BYTES } from '../src/results/result-bounds.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { helmReleaseSecret } from './peers/helm-objects.js';
import { startHostilePostgres, type HostilePostgres } from './peers/hostile-postgres.js';
import { startHostileRegistry, type HostileRegistry } from './peers/hostile-registry.js';
import { startKubeApi, type KubeApi } from './peers/kube-api.js';
import { cnpgCluster, deployment, secret } from './peers/kube-objects.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { runYaml } from './support/checks.js';

const ZONE = 'size.test';
const HUGE = 'v'.repeat(1_000_000);
/** 240 TXT records of 250 characters: about 60 KB, over TCP. */
const TXT = Array.from({ length: 240 }, (_, i) => `txt 300 TXT "${String(i).padStart(3, '0')}${'t'.repeat(247)}"`);

let certs: Certificates;
let knot: Knot;
let https: HttpsPeer;
let manyNames: HttpsPeer;
let plain: Server;
let plainPort = 0;
let registry: HostileRegistry;
let kube: KubeApi;
let kubeconfig = '';
let postgres: HostilePostgres;
let grpc: GrpcPeer;

beforeAll(async () => {
  certs = await mintCertificates(`hub.${ZONE}`);
  knot = await startKnot({ zones: { [ZONE]: ['hub 300 A 127.0.0.2', ...TXT] } });
  const names = await certs.mintLeaf({ names: Array.from({ length: 1000 }, (_, i) => `name-${i}-${'n'.repeat(30)}.${ZONE}`), notAfter: new Date(Date.now() + 86_400_000 * 30), file: 'many-names' });
  const json = { status: 200, headers: { 'content-type': 'application/json' }, body: { version: HUGE } };
  https = await startHttpsPeer({ host: '127.0.0.2', tls: certs.leaf, routes: { '/json': json, '/openapi.json': { ...json, body: { openapi: '3.0.3', info: { title: HUGE, version: '1' }, paths: {} } } } });
  manyNames = await startHttpsPeer({ host: '127.0.0.3', tls: names, routes: {} });
  plain = createServer((_request, response) => response.end('hello'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  const address = plain.address();
  plainPort = typeof address === 'object' && address ? address.port : 0;
  postgres = await startHostilePostgres();
  grpc = await startGrpcPeer({ behaviour: 'long-error' });
  registry = await startHostileRegistry(certs, { address: '127.0.0.2', hostname: `hub.${ZONE}`, token: 'token-for-size' });
  kube = await startKubeApi();
  kubeconfig = await kube.writeKubeconfig();
  // Fields of a megabyte (the record stays under the 8 MiB a helm-release check decodes).
  kube.put(helmReleaseSecret('size', 'wide', 1, { status: 'deployed', appVersion: HUGE, chart: HUGE.slice(0, 500_000), description: HUGE }));
  // A 7 MB condition message and 5,000 containers of other images.
  const stuck = deployment('size', 'stuck', { image: 'x', containers: Array.from({ length: 5000 }, (_, i) => ({ name: `c${i}`, image: `r.example/a${i}:1` })) });
  stuck.status.conditions = [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'p'.repeat(7_000_000) }];
  kube.put(stuck);
  const pg = cnpgCluster('size', 'pg');
  Object.assign(pg.status, { phase: 'Cluster cannot proceed to reconciliation', phaseReason: HUGE });
  pg.status.conditions = [{ type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: HUGE }];
  kube.put(pg);
  // 5,000 keys of 200 characters, none of them the expected one.
  kube.put(secret('size', 'keys', Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`${'K'.repeat(195)}${String(i).padStart(5, '0')}`, 'v']))));
});

afterAll(async () => {
  await Promise.all([https.close(), manyNames.close(), knot.close(), registry.close(), kube.close(), postgres.close(), grpc.close()]);
  await new Promise((resolve) => plain.close(resolve));
  await certs.close();
});

/** Types whose results quote nothing a target sends. */
const QUOTES_NOTHING = new Set(['tcp']);

/** Each check type's case: the check (as a YAML mapping) whose result would quote the target's huge text. */
const cases: Record<string, () => Record<string, unknown>> = {
  http: () => ({ type: 'http', url: `https://hub.${ZONE}:${https.port}/json`, resolve: '127.0.0.2', ca: certs.caPath, maxBodyBytes: 4_000_000, expect: { json: { version: 'small' } } }),
  ingress: () => ({ type: 'ingress', url: `https://hub.${ZONE}:${https.port}/json`, ingress: ['127.0.0.2'], resolvers: [knot.address], ca: certs.caPath, maxBodyBytes: 4_000_000, expect: { status: [200], json: { version: 'small' } } }),
  openapi: () => ({ type: 'openapi', url: `https://hub.${ZONE}:${https.port}/openapi.json`, resolve: '127.0.0.2', ca: certs.caPath, expect: { title: 'small', paths: ['/a'] } }),
  tls: () => ({ type: 'tls', host: `hub.${ZONE}`, port: manyNames.port, resolve: '127.0.0.3', ca: certs.caPath }),
  tcp: () => ({ type: 'tcp', host: '127.0.0.1', port: plainPort }),
  'oci-image': () => ({ type: 'oci-image', image: `${registry.host}/long/type:v1`, resolve: '127.0.0.2', ca: certs.caPath, username: 'u', password: { env: 'HOME' } }),
  'helm-release': () => ({ type: 'helm-release', kubeconfig, namespace: 'size', release: 'wide', expect: { appVersion: 'small' } }),
  'k8s-rollout': () => ({ type: 'k8s-rollout', kubeconfig, namespace: 'size', resource: 'deployment/stuck', expect: { image: 'r.example/hub', tag: '1' } }),
  'cnpg-cluster': () => ({ type: 'cnpg-cluster', kubeconfig, namespace: 'size', cluster: 'pg' }),
  'k8s-secret': () => ({ type: 'k8s-secret', kubeconfig, namespace: 'size', secret: 'keys', expect: { keys: ['DATABASE_URL'], allowExtraKeys: false } }),
  // A 1 MB ErrorResponse at login.
  postgres: () => ({ type: 'postgres', host: '127.0.0.1', port: postgres.port, database: 'error-1mb', user: 'u', password: { env: 'HOME' }, sslmode: 'disable' }),
  // The first step's expectation quotes the 1 MB JSON value.
  flow: () => ({ type: 'flow', steps: [{ name: 'read', url: `https://hub.${ZONE}:${https.port}/json`, resolve: '127.0.0.2', ca: certs.caPath, maxBodyBytes: 4_000_000, expect: { json: { version: 'small' } } }] }),
  // An error whose grpc-message runs to 30,000 characters.
  grpc: () => ({ type: 'grpc', target: `127.0.0.1:${grpc.port}`, plaintext: true }),
  dns: () => ({ type: 'dns', query: `txt.${ZONE}`, record: 'TXT', transport: 'tcp', resolvers: [knot.address], expect: { answers: ['other'] } }),
};

describe('the result size ceiling, per check type', { timeout: 60_000 }, () => {
  it('has a case for every check type', () => {
    expect(Object.keys(cases).sort()).toEqual([...CHECK_TYPES].sort());
  });

  it.each(Object.keys(cases))('%s: a result quoting a hostile target stays under the ceiling', async (type) => {
    const make = cases[type];
    if (make === undefined) throw new Error(`no case for ${type}`);
    const run = await runYaml(stringify({ checks: [{ name: `size-${type}`, timeout: '20s', ...make() }] }), { debug: true });
    const size = Buffer.byteLength(JSON.stringify(run.result));
    expect(size).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(run.result.type).toBe(type);
    // The target's text did reach the result, and was cut (tcp quotes nothing of its target).
    if (!QUOTES_NOTHING.has(type)) expect(JSON.stringify(run.result)).toMatch(/more (characters|items)|characters in all/);
  });
});
