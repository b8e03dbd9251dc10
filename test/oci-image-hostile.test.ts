import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientNode } from '../src/kube/client-node.js';
import { credentialOrigins } from '../src/net/registry-realm.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { MANIFEST_DIGEST, startHostileRegistry, type HostileRegistry } from './peers/hostile-registry.js';
import { startKubeApi } from './peers/kube-api.js';
import { deployment, podsOf } from './peers/kube-objects.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { collectOutputs, startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * oci-image against hostile registries on loopback (test/peers/hostile-registry.ts): one that
 * echoes the credentials it receives into Content-Type, Docker-Content-Digest, WWW-Authenticate
 * and error bodies, and token realms on another address or port, which may receive the basic
 * credentials only when realmAllow names them.
 */

const HOSTNAME = 'registry.driftwatch.test';
const USER = 'tegwick';
const CANARY = 'canary-7e31c0d9-registry-password';
// Upper case and underscores: it passes as a registry error code, which messages quote.
const TOKEN = 'DW_CANARY_TOKEN_4F0B9A2E_C61D';
const ENV = 'DRIFTWATCH_TEST_HOSTILE_REGISTRY_PASSWORD';
const BASIC = `Basic ${Buffer.from(`${USER}:${CANARY}`).toString('base64')}`;
/** Every form the credentials may take in an output. */
const LEAKS = [CANARY, BASIC.slice(6), `${USER}:${CANARY}`, TOKEN];

const peers = new PeerSet();
let certs: Certificates;
let basicEcho: HostileRegistry;
let bearerEcho: HostileRegistry;
let registry: HostileRegistry;
/** Token realms: on 127.0.0.3 (another host), and on the registry's host, another port. */
let otherHost: HostileRegistry;
let otherPort: HostileRegistry;

beforeAll(async () => {
  certs = await peers.start(mintCertificates(HOSTNAME));
  const on127002 = { address: '127.0.0.2', hostname: HOSTNAME, token: TOKEN };
  const start = () => peers.start(startHostileRegistry(certs, on127002));
  [basicEcho, bearerEcho, registry, otherPort] = await Promise.all([start(), start(), start(), start()]);
  otherHost = await peers.start(startHostileRegistry(certs, { address: '127.0.0.3', hostname: '127.0.0.3', token: TOKEN }));
  bearerEcho.challenge = { scheme: 'bearer', realm: `${bearerEcho.origin}/token` };
  process.env[ENV] = CANARY;
}, 30_000);

afterAll(async () => {
  Reflect.deleteProperty(process.env, ENV);
  await peers.closeAll();
});

function check(name: string, peer: HostileRegistry, repository: string, extra = `username: ${USER}, password: { env: ${ENV} }`): string {
  return `  - { name: ${name}, type: oci-image, image: "${peer.host}/${repository}:v1", resolve: 127.0.0.2, ca: ${certs.caPath}, timeout: 5s, interval: 1h${extra ? `, ${extra}` : ''} }\n`;
}

describe('oci-image: a registry that echoes the credentials it receives', () => {
  let api: DaemonApi;
  const logs = memoryLogger();
  const NAMES = ['basic-type', 'basic-digest', 'basic-refuse', 'bearer-type', 'bearer-digest', 'bearer-refuse', 'bearer-token-refuse'];

  beforeAll(async () => {
    const checks = ['type', 'digest', 'refuse'].flatMap((mode) => [check(`basic-${mode}`, basicEcho, `echo/${mode}`), check(`bearer-${mode}`, bearerEcho, `echo/${mode}`)]);
    // Refused its token by a realm that quotes another run's token back as its error code.
    checks.push(check('bearer-token-refuse', bearerEcho, 'echo/token-refuse'));
    api = await startDaemonApi(`checks:\n${checks.join('')}`, logs.log);
  });

  afterAll(async () => {
    await api.close();
  });

  it('puts no credential into results, the API, the pages, debug records or logs, over several runs', async () => {
    // Twice each: the second run's challenge carries what the registry kept from the first, of
    // this check or of another one (the registry keeps the last Authorization it received).
    const first = await collectOutputs(api.app, NAMES, logs.lines);
    const second = await collectOutputs(api.app, NAMES, logs.lines);
    // The test can fail: the peers were sent the credentials and echoed them.
    expect(basicEcho.requests.map((r) => r.authorization)).toContain(BASIC);
    expect(bearerEcho.requests.map((r) => r.authorization)).toContain(`Bearer ${TOKEN}`);
    expect(bearerEcho.requests.filter((r) => r.path.startsWith('/token')).map((r) => r.authorization)).toContain(BASIC);
    const all = `${first.all}\n${second.all}`;
    expect(all).toContain('check failed');
    for (const leak of LEAKS) expect(all, `leaked ${leak}`).not.toContain(leak);
  });

  it('shows where the echo was: [secret] in the media type, the digest, the error code and the scope', async () => {
    const probe = async (name: string) => (await api.app.inject(`/probe?check=${name}`)).json<{ ok: boolean; message: string; observations: Record<string, unknown> }>();
    expect((await probe('basic-type')).observations).toMatchObject({ mediaType: '[secret]', auth: 'basic' });
    expect((await probe('bearer-type')).observations).toMatchObject({ mediaType: 'Bearer [secret]', auth: 'bearer' });
    // The scope is what the registry kept from an earlier request: the Basic header, or a token.
    expect((await probe('bearer-type')).observations.scope).toMatch(/^(Bearer )?\[secret\]$/);
    expect((await probe('bearer-digest')).message).toBe(`registry ${bearerEcho.host} sent a malformed Docker-Content-Digest "Bearer [secret]"`);
    expect((await probe('bearer-refuse')).message).toBe(`registry ${bearerEcho.host} refused the token for Bearer [secret] (401): user ${USER} may not pull ${bearerEcho.host}/echo/refuse`);
    // Error codes are quoted only from the registry API's own list: an echoed token is none of them.
    expect((await probe('bearer-token-refuse')).message).toBe(`token server ${bearerEcho.origin}/token refused the credentials of user ${USER} (401)`);
    expect((await probe('basic-digest')).message).toBe(`registry ${basicEcho.host} sent a malformed Docker-Content-Digest "[secret]"`);
  });
});

describe('k8s-rollout expect.digestFrom through an echoing registry', () => {
  it("scrubs the echo from the rollout's result too, whose own spec holds no registry secret", async () => {
    await loadClientNode();
    const kube = await peers.start(startKubeApi());
    const image = `${basicEcho.host}/echo/digest`;
    const d = kube.put(deployment('inter-hub', 'hub', { image: `${image}:v1` }));
    for (const pod of podsOf(d, MANIFEST_DIGEST)) kube.put(pod);
    const { log, lines } = memoryLogger();
    const yaml = `checks:
  - { name: hub-rollout, type: k8s-rollout, kubeconfig: ${await kube.writeKubeconfig()}, namespace: inter-hub, resource: deployment/hub, timeout: 5s, expect: { digestFrom: hub-image } }
${check('hub-image', basicEcho, 'echo/digest')}`;
    const run = await runYaml(yaml, { name: 'hub-rollout', log });
    expect(run.result).toMatchObject({ ok: false, message: `expect.digestFrom hub-image: registry ${basicEcho.host} sent a malformed Docker-Content-Digest "[secret]"` });
    const all = `${JSON.stringify(run.result)}\n${lines()}`;
    for (const leak of LEAKS) expect(all, `leaked ${leak}`).not.toContain(leak);
  });
});

describe('oci-image: header text a registry sends is quoted at most 200 characters', () => {
  it('cuts a long Content-Type, Basic realm and Bearer scope, saying how much was left out', async () => {
    const cut = /^.{200}\.\.\. \(\d+ more characters\)$/s;
    const typed = await runYaml(`checks:\n${check('long', basicEcho, 'long/type')}`);
    expect(typed.result).toMatchObject({ ok: true });
    expect(typed.result.observations.mediaType).toMatch(cut);
    const anonymous = await runYaml(`checks:\n${check('long', basicEcho, 'long/type', '')}`);
    expect(anonymous.result).toMatchObject({ ok: false, reason: 'auth' });
    expect(anonymous.result.message).toMatch(/^registry \S+ requires credentials \(401, Basic realm "hostile registryx+\.\.\. \(\d+ more characters\)"\): give username and password$/);
    expect(anonymous.result.message.length).toBeLessThan(400);
    bearerEcho.challenge = { scheme: 'bearer', realm: `${bearerEcho.origin}/token` };
    const scoped = await runYaml(`checks:\n${check('long', bearerEcho, 'long/type', '')}`);
    expect(scoped.result).toMatchObject({ ok: true, observations: { auth: 'bearer' } });
    expect(scoped.result.observations.scope).toMatch(cut);
    const steps = JSON.stringify(scoped.result.steps);
    expect(steps).not.toMatch(/x{201}/);
  });
});

describe('oci-image realmAllow: which token realms receive the basic credentials', () => {
  const yaml = (realm: HostileRegistry, extra = `username: ${USER}, password: { env: ${ENV} }`) => {
    registry.challenge = { scheme: 'bearer', realm: `${realm.origin}/token` };
    return `checks:\n${check('realm', registry, 'coulomb/inter-hub', extra)}`;
  };
  const credentialed = `username: ${USER}, password: { env: ${ENV} }`;

  it('refuses a realm on another host, sending it nothing, unless realmAllow lists its origin', async () => {
    const refused = await runYaml(yaml(otherHost));
    expect(refused.result).toMatchObject({
      ok: false, reason: 'auth',
      message: `registry ${registry.host} named the token realm ${otherHost.origin}, which is neither its own origin nor in realmAllow: username and password were not sent there (add "${otherHost.origin}" to realmAllow if that is the registry's token server)`,
    });
    expect(otherHost.requests).toEqual([]);
    // Another port of the realm's host is another origin.
    const wrongPort = await runYaml(yaml(otherHost, `${credentialed}, realmAllow: ["https://127.0.0.3:${otherPort.host.split(':')[1] ?? ''}"]`));
    expect(wrongPort.result).toMatchObject({ ok: false, reason: 'auth' });
    expect(otherHost.requests).toEqual([]);
    const allowed = await runYaml(yaml(otherHost, `${credentialed}, realmAllow: ["${otherHost.origin}"]`));
    expect(allowed.result).toMatchObject({ ok: true, observations: { auth: 'bearer' } });
    expect(otherHost.requests.map((r) => [r.path.split('?')[0], r.authorization])).toEqual([['/token', BASIC]]);
  });

  it("refuses a realm on the registry's host but another port unless listed", async () => {
    const before = otherPort.requests.length;
    const refused = await runYaml(yaml(otherPort));
    expect(refused.result).toMatchObject({ ok: false, reason: 'auth' });
    expect(refused.result.message).toContain(`token realm ${otherPort.origin}, which is neither its own origin nor in realmAllow`);
    expect(otherPort.requests.length).toBe(before);
    const allowed = await runYaml(yaml(otherPort, `${credentialed}, realmAllow: ["${otherPort.origin}/"]`));
    expect(allowed.result).toMatchObject({ ok: true });
    expect(otherPort.requests.slice(before).map((r) => r.authorization)).toEqual([BASIC]);
  });

  it('lets an anonymous check (no credentials) ask any HTTPS realm for a token', async () => {
    const before = otherHost.requests.length;
    const run = await runYaml(yaml(otherHost, ''));
    expect(run.result).toMatchObject({ ok: true, observations: { auth: 'bearer' } });
    expect(otherHost.requests.slice(before).map((r) => [r.path.split('?')[0], r.authorization])).toEqual([['/token', undefined]]);
  });

  it('validates realmAllow when the file is loaded', () => {
    const load = (entry: string) => () => parseChecks(`checks:\n  - { name: i, type: oci-image, image: "registry.example/hub:v1", realmAllow: ["${entry}"] }\n`);
    for (const good of ['https://auth.example.com', 'https://auth.example.com:5001', 'https://auth.example.com/', 'https://127.0.0.3:8443']) expect(load(good)).not.toThrow();
    for (const bad of ['auth.example.com', 'http://auth.example.com', 'https://auth.example.com/token', 'https://user@auth.example.com', 'https://auth.example.com?x=1', 'https://']) {
      expect(load(bad), bad).toThrow(/checks\[0\]\.realmAllow\[0\]: must be an HTTPS origin, https:\/\/HOST or https:\/\/HOST:PORT with nothing after it/);
    }
  });

  it("allows by default exactly the registry's own origin (and auth.docker.io for Docker Hub)", () => {
    expect([...credentialOrigins('registry.example:5000', undefined)]).toEqual(['https://registry.example:5000']);
    expect([...credentialOrigins('registry.example:443', ['https://auth.example.com/'])]).toEqual(['https://registry.example', 'https://auth.example.com']);
    expect([...credentialOrigins('registry-1.docker.io', undefined)]).toEqual(['https://registry-1.docker.io', 'https://auth.docker.io']);
  });
});
