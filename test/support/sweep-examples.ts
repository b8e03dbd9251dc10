/**
 * A complete example of every check type, for the bad-value sweep (test/bad-value-sweep.test.ts):
 * between them, the examples of a type use every key its schema has (the sweep test checks that
 * against the JSON Schema, so a new key without an example fails there). Keys that exclude each
 * other (interval/schedule, ingress/ingressFrom, a secret's env/file) are split over two examples.
 */

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Mapping = { [key: string]: Value };
/** A check as written: its name and type, and any keys. */
export interface Example extends Mapping {
  name: string;
  type: string;
}

/** Checks the examples name in dependsOn and expect.digestFrom; in the file beside them, never mutated. */
const DEPENDENCY: Example = { name: 'sweep-dep', type: 'tcp', host: '127.0.0.1', port: 1 };
const IMAGE: Example = { name: 'sweep-image', type: 'oci-image', image: 'registry.example/hub:v1' };
export const SUPPORT: Example[] = [DEPENDENCY, IMAGE];

/** The checks an example needs beside it (judged by the example as written, before a value is replaced). */
export function supportOf(example: Example): Example[] {
  const text = JSON.stringify(example);
  return SUPPORT.filter((check) => text.includes(`"${check.name}"`));
}

const base = (name: string, type: string): Example => ({
  name,
  type,
  description: 'an example for the bad-value sweep',
  interval: '30s',
  timeout: '5s',
  labels: { service: 'hub' },
  allowTargets: ['*.example.com'],
  maintenance: [{ schedule: '0 3 * * SUN', duration: '1h', timezone: 'Europe/Berlin' }],
});

/** dependsOn in a few examples only: the check it names makes every file of the sweep longer. */
const dependent = { dependsOn: ['sweep-dep'] };

/** The keys every check has are swept in each type's first example; its other examples keep to their own keys. */
const own = (name: string, type: string): Example => ({ name, type });

const kube = { kubeconfig: '/etc/driftwatch/kubeconfig', context: 'prod' };

const httpExpect: Mapping = {
  status: [401, '2xx'],
  bodyContains: ['hubs'],
  json: { 'info.version': '2.1.0', 'items[0].name': 'alpha' },
  bodyMatches: '"version"',
  bodyNotMatches: ['error'],
  headers: { 'x-api-version': '2.1.0', 'content-type': { matches: '^application/json', notMatches: 'xml', allowMissing: false } },
  https: true,
  httpVersions: ['HTTP/1.1'],
  maxDuration: '2s',
  certMinDaysValid: 14,
};

export const EXAMPLES: Example[] = [
  { ...base('sweep-tcp', 'tcp'), ...dependent, host: 'hub.example.com', port: 443, resolve: '203.0.113.10', ipProtocol: 'ip4', ipProtocolFallback: true },
  { ...own('sweep-tcp-cron', 'tcp'), schedule: '*/5 * * * *', timeout: '2s', host: '::1', port: 5432, endpointsFrom: { namespace: 'databases', service: 'pg-rw', port: 5432, maxEndpoints: 8, kubeconfig: '/etc/kube/config', context: 'prod' } },
  {
    ...base('sweep-http', 'http'),
    ...dependent,
    url: 'https://hub.example.com/api/v2/hubs?x=1',
    method: 'POST',
    headers: { Authorization: { env: 'HUB_TOKEN' }, 'X-Trace': 'sweep', Cookie: { file: '/run/secrets/cookie' } },
    body: '{"probe": true}',
    resolve: '203.0.113.10',
    ca: '/etc/ssl/internal-ca.pem',
    insecureSkipVerify: false,
    followRedirects: true,
    redirectHeaders: ['X-Trace'],
    maxBodyBytes: 1048576,
    basicAuth: { username: { env: 'PROBE_USER' }, password: { env: 'PROBE_PASSWORD' } },
    ipProtocol: 'ip6',
    ipProtocolFallback: false,
    expect: httpExpect,
  },
  { ...own('sweep-http-min', 'http'), url: 'http://[::1]:8080/', endpointsFrom: { namespace: 'hub', service: 'inter-hub', port: 'http', maxEndpoints: 64, ...kube }, headers: { 'X-Probe': 'yes' }, basicAuth: { username: { file: '/run/u' }, password: { file: '/run/p' } }, expect: { status: 200, bodyContains: 'ok', bodyMatches: ['a', 'b'] } },
  {
    ...base('sweep-tls', 'tls'),
    host: 'hub.example.com',
    port: 443,
    resolve: '203.0.113.10',
    ca: '/etc/ssl/internal-ca.pem',
    ipProtocol: 'ip4',
    ipProtocolFallback: true,
    serverName: 'hub.example.com',
    expect: { minDaysValid: 14, issuer: "Let's Encrypt", chainVerifies: true },
  },
  {
    ...base('sweep-dns', 'dns'),
    query: 'hub.example.com',
    record: 'A',
    resolvers: ['10.0.0.2:53', '[2606:4700::1111]:53', '1.1.1.1'],
    transport: 'tcp',
    expect: {
      answers: ['203.0.113.10'],
      includes: ['203.0.113.10'],
      excludes: ['198.51.100.7'],
      rcode: 'NOERROR',
      agree: true,
      minTtl: '1s',
      maxTtl: '5m',
      answerRrs: { failIfMatches: ['198\\.51'], failIfAllMatch: ['x'], failIfNotMatches: ['IN\\s+A'], failIfNoneMatches: ['203'] },
      authorityRrs: { failIfMatches: ['x'], failIfAllMatch: ['x'], failIfNotMatches: ['x'], failIfNoneMatches: ['x'] },
      additionalRrs: { failIfMatches: ['y'], failIfAllMatch: ['y'], failIfNotMatches: ['y'], failIfNoneMatches: ['y'] },
    },
  },
  { ...own('sweep-dns-mx', 'dns'), query: 'example.com', record: 'MX', resolvers: ['authoritative', '1.1.1.1'], authority: { via: '9.9.9.9', port: 53 }, expect: { answers: ['10 mail.example.com'], rcode: 'NODATA' } },
  {
    ...base('sweep-postgres', 'postgres'),
    host: 'db-rw.example',
    port: 5432,
    database: 'app',
    user: 'app',
    password: { env: 'DB_PASSWORD' },
    sslmode: 'verify-full',
    ca: '/etc/db-ca.pem',
    serverName: 'db-rw.example',
    connectTimeout: '5s',
    query: 'select 1',
    expect: { primary: true, result: '1', minRows: 1 },
  },
  { ...own('sweep-postgres-file', 'postgres'), host: '127.0.0.1', database: 'app', user: 'app', password: { file: '/run/secrets/db' }, sslmode: 'disable' },
  { ...base('sweep-rollout', 'k8s-rollout'), ...dependent, ...kube, namespace: 'hub', resource: 'deployment/hub', container: 'app', expect: { image: 'registry.example/hub', tag: 'release' } },
  { ...own('sweep-rollout-digest', 'k8s-rollout'), namespace: 'hub', resource: 'sts/hub', expect: { digestFrom: 'sweep-image' } },
  { ...base('sweep-cnpg', 'cnpg-cluster'), ...kube, namespace: 'databases', cluster: 'app-pg' },
  {
    ...base('sweep-secret', 'k8s-secret'),
    ...kube,
    namespace: 'hub',
    secret: 'hub-env',
    expect: { keys: ['DATABASE_URL', 'SESSION_SECRET'], allowExtraKeys: true, type: 'Opaque', labels: { app: 'hub' } },
  },
  { ...own('sweep-secret-sops', 'k8s-secret'), namespace: 'hub', secret: 'hub-env', expect: { keysFrom: '/etc/driftwatch/hub.env.sops.yaml', allowExtraKeys: false } },
  {
    ...base('sweep-ingress', 'ingress'),
    ...dependent,
    url: 'https://hub.example.com/api/v2/hubs',
    ingress: ['203.0.113.10', '2001:db8::1'],
    resolvers: ['system', '1.1.1.1'],
    method: 'GET',
    headers: { Authorization: { env: 'HUB_TOKEN' }, Cookie: { file: '/run/secrets/cookie' }, Accept: 'application/json' },
    ca: '/etc/ssl/internal-ca.pem',
    insecureSkipVerify: false,
    maxBodyBytes: 65536,
    expect: httpExpect,
  },
  { ...own('sweep-ingress-from', 'ingress'), url: 'http://hub.example.com/', resolvers: ['authoritative', '8.8.8.8'], authority: { via: 'system', port: 5353 }, ingressFrom: { namespace: 'kube-system', service: 'traefik', ...kube }, expect: { status: [401] } },
  {
    ...base('sweep-openapi', 'openapi'),
    url: 'https://hub.example.com/api/v2/openapi.json',
    resolve: '203.0.113.10',
    ca: '/etc/ssl/internal-ca.pem',
    insecureSkipVerify: true,
    headers: { Authorization: { file: '/run/secrets/token' }, 'X-Api-Key': { env: 'API_KEY' } },
    maxBodyBytes: 5242880,
    expect: { paths: ['/api/v2/hubs', 'GET /api/v2/hubs'], title: 'inter-hub', version: { matches: '^2\\.' }, openapi: 3 },
  },
  { ...own('sweep-openapi-min', 'openapi'), url: 'http://127.0.0.1:8080/openapi.yaml', expect: { title: { matches: 'hub' }, version: '2.1.0', openapi: '3.1' } },
  { ...base('sweep-oci', 'oci-image'), image: 'gitea.example/coulomb/hub:{release}', username: 'probe', password: { env: 'REGISTRY_TOKEN' }, resolve: '203.0.113.10', ca: '/etc/ssl/ca.pem', realmAllow: ['https://auth.gitea.example'] },
  {
    ...base('sweep-flow', 'flow'),
    steps: [
      {
        name: 'login', url: 'https://hub.example.com/login', method: 'POST', headers: { Authorization: { env: 'SMOKE_LOGIN' }, 'Content-Type': 'application/json' },
        body: '{"remember": false}', resolve: '203.0.113.10', ca: '/etc/ssl/ca.pem', insecureSkipVerify: false, followRedirects: false, maxBodyBytes: 65536,
        expect: httpExpect,
        capture: { token: { json: 'access_token' }, session: { header: 'X-Session', public: true }, csrf: { regex: 'csrf=([a-z0-9]+)' } },
      },
      { name: 'read-hub', ingressFrom: { namespace: 'kube-system', service: 'traefik', ...kube }, url: 'https://hub.example.com/api/v2/hubs?session={captures.session}', headers: { Authorization: 'Bearer {captures.token}', 'X-CSRF': '{captures.csrf}', 'X-Api-Key': { file: '/run/secrets/api-key' } }, expect: { status: 200 } },
    ],
  },
  { ...own('sweep-oci-token', 'oci-image'), image: 'registry.example/hub@sha256:' + 'a'.repeat(64), token: { env: 'REGISTRY_BEARER' } },
  { ...own('sweep-oci-token-file', 'oci-image'), image: 'hub:v3', token: { file: '/run/secrets/registry-token' } },
  { ...own('sweep-oci-basic', 'oci-image'), image: 'registry.example:5000/hub:v2', username: 'probe', password: { file: '/run/secrets/registry-password' } },
  {
    ...base('sweep-helm', 'helm-release'),
    ...kube,
    namespace: 'hub',
    release: 'hub',
    expect: { appVersion: '{release}', chartVersion: '1.2.3', values: { 'image.tag': '{release}', replicas: 2, enabled: true }, pendingLimit: '10m' },
  },
  {
    ...base('sweep-grpc', 'grpc'),
    target: 'hub.example.com:443',
    service: 'hub.v1.Hubs',
    resolve: '203.0.113.10',
    ca: '/etc/ssl/internal-ca.pem',
    insecureSkipVerify: false,
    metadata: { authorization: { env: 'HUB_GRPC_TOKEN' }, 'x-api-key': { file: '/run/secrets/grpc-key' }, 'x-team': 'hubs' },
    ipProtocol: 'ip4',
    ipProtocolFallback: true,
    expect: { status: 'SERVING', maxDuration: '2s', certMinDaysValid: 14 },
  },
  { ...own('sweep-grpc-plain', 'grpc'), target: '[::1]:50051', plaintext: true, expect: { status: 'NOT_SERVING' } },
];

/** A `defaults:` block using every key it has; swept with one check of every type below it. */
export const DEFAULTS: Mapping = { interval: '1m', timeout: '10s', labels: { service: 'inter-hub' }, kubeconfig: '/etc/driftwatch/kubeconfig', context: 'prod', maintenance: [{ schedule: '30 2 * * *', duration: '30m', timezone: 'UTC' }] };
export const DEFAULTS_SCHEDULED: Mapping = { schedule: '*/5 * * * *', timeout: '10s' };
