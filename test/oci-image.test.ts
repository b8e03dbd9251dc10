import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/problem.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startDigestlessFront, startRegistry, type RegistryPeer } from './peers/registry.js';
import { startTokenServer, TOKEN_SERVICE, type TokenServer } from './peers/registry-token-server.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * The oci-image check against Debian's docker-registry (distribution 2.8) on loopback: one with
 * htpasswd basic auth, one in token mode behind our token server (the runbook's Gitea flow:
 * /v2/token?service=...&scope=repository:coulomb/inter-hub:pull with basic credentials).
 */

const HOSTNAME = 'registry.driftwatch.test';
const REPO = 'coulomb/inter-hub';
// Never to appear in any output: the registry password, and a second user's.
const CANARY = 'canary-5d2e8b1f-registry-password';
const OTHER_CANARY = 'canary-9a7c3e2d-other-password';

const peers = new PeerSet();
let certs: Certificates;
let basic: RegistryPeer;
let tokens: TokenServer;
let bearer: RegistryPeer;
let pushed: { basic: string; bearer: string; index: string };

beforeAll(async () => {
  certs = await peers.start(mintCertificates(HOSTNAME));
  tokens = await peers.start(startTokenServer(certs, {
    tegwick: { password: CANARY, grants: { [REPO]: ['pull', 'push'] } },
    outsider: { password: OTHER_CANARY, grants: { 'other/app': ['pull'] } },
  }));
  [basic, bearer] = await Promise.all([peers.start(startRegistry(certs, { htpasswd: { tegwick: CANARY } })), peers.start(startRegistry(certs, { token: tokens }))]);
  pushed = {
    basic: await basic.push(REPO, '6455902'),
    bearer: await bearer.push(REPO, '6455902'),
    index: await bearer.push(REPO, 'multi', { platforms: ['linux/amd64', 'linux/arm64'] }),
  };
  process.env.DRIFTWATCH_TEST_REGISTRY_PASSWORD = CANARY;
  process.env.DRIFTWATCH_TEST_OTHER_PASSWORD = OTHER_CANARY;
}, 60_000);

afterAll(async () => {
  delete process.env.DRIFTWATCH_TEST_REGISTRY_PASSWORD;
  delete process.env.DRIFTWATCH_TEST_OTHER_PASSWORD;
  await peers.closeAll();
});

// The token server listens on a port of its own: another origin, which receives the basic
// credentials only because realmAllow names it (test/oci-image-hostile.test.ts: without it).
function imageYaml(registry: RegistryPeer, tag: string, extra = '    username: tegwick\n    password: { env: DRIFTWATCH_TEST_REGISTRY_PASSWORD }\n'): string {
  return `
checks:
  - name: hub-image
    type: oci-image
    image: ${registry.host}/${REPO}:${tag}
    resolve: 127.0.0.1
    ca: ${certs.caPath}
    timeout: 5s
    realmAllow: ["${new URL(tokens.realm).origin}"]
${extra}`;
}

describe('oci-image against a registry with htpasswd basic auth', () => {
  it('reports the digest the tag points at', async () => {
    const run = await runYaml(imageYaml(basic, '6455902'));
    expect(run.result).toMatchObject({ ok: true, message: `${basic.host}/${REPO}:6455902 is ${pushed.basic}` });
    expect(run.result.observations).toEqual({
      image: `${basic.host}/${REPO}:6455902`, registry: basic.host, repository: REPO, reference: '6455902',
      digest: pushed.basic, mediaType: 'application/vnd.oci.image.manifest.v1+json', auth: 'basic', digestVerified: false,
    });
  });

  it('fails a tag that is not published with reason assertion', async () => {
    const run = await runYaml(imageYaml(basic, 'deadbee'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: `tag deadbee not found in ${basic.host}/${REPO} (404)` });
    expect(run.result.observations).not.toHaveProperty('digest');
  });

  it('fails a wrong password, and no credentials, with reason auth', async () => {
    const wrong = await runYaml(imageYaml(basic, '6455902', '    username: tegwick\n    password: { env: DRIFTWATCH_TEST_OTHER_PASSWORD }\n'));
    expect(wrong.result).toMatchObject({ ok: false, reason: 'auth', message: `registry ${basic.host} refused the credentials of user tegwick (401)` });
    const none = await runYaml(imageYaml(basic, '6455902', ''));
    expect(none.result).toMatchObject({ ok: false, reason: 'auth', message: `registry ${basic.host} requires credentials (401, Basic realm "driftwatch test registry"): give username and password` });
  });
});

describe('oci-image against a registry in token mode (the Docker Registry v2 bearer flow)', () => {
  it('asks the realm for a pull token for the repository with the basic credentials, then reads the digest with it', async () => {
    const before = tokens.requests.length;
    const run = await runYaml(imageYaml(bearer, '6455902'));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations).toMatchObject({ digest: pushed.bearer, auth: 'bearer', scope: `repository:${REPO}:pull` });
    expect(tokens.requests.slice(before)).toEqual([{ user: 'tegwick', service: TOKEN_SERVICE, scopes: [`repository:${REPO}:pull`], status: 200, granted: [`repository:${REPO}:pull`] }]);
    const steps = (run.result.steps ?? []).map((s) => s.step);
    expect(steps).toEqual(expect.arrayContaining(['registry challenge', 'registry token', 'manifest']));
  });

  it('reports the index digest of a multi-platform tag (what a runtime records as the pulled image)', async () => {
    const run = await runYaml(imageYaml(bearer, 'multi'));
    expect(run.result.observations).toMatchObject({ digest: pushed.index, mediaType: 'application/vnd.oci.image.index.v1+json' });
  });

  it('auth failures: refused by the token server, a token without pull access, a bad bearer token', async () => {
    const wrong = await runYaml(imageYaml(bearer, '6455902', '    username: tegwick\n    password: { env: DRIFTWATCH_TEST_OTHER_PASSWORD }\n'));
    expect(wrong.result).toMatchObject({ ok: false, reason: 'auth', message: `token server ${tokens.realm} refused the credentials of user tegwick (401 UNAUTHORIZED)` });
    const outsider = await runYaml(imageYaml(bearer, '6455902', '    username: outsider\n    password: { env: DRIFTWATCH_TEST_OTHER_PASSWORD }\n'));
    expect(outsider.result).toMatchObject({
      ok: false, reason: 'auth', message: `registry ${bearer.host} refused the token for repository:${REPO}:pull (401): user outsider may not pull ${bearer.host}/${REPO}`,
    });
    const anonymous = await runYaml(imageYaml(bearer, '6455902', ''));
    expect(anonymous.result).toMatchObject({ ok: false, reason: 'auth', message: `registry ${bearer.host} refused the token for repository:${REPO}:pull (401): anonymous access may not pull ${bearer.host}/${REPO}` });
    const tokenFile = join(certs.dir, 'bad-token');
    await writeFile(tokenFile, 'not-a-jwt\n');
    const badToken = await runYaml(imageYaml(bearer, '6455902', `    token: { file: ${tokenFile} }\n`));
    expect(badToken.result).toMatchObject({ ok: false, reason: 'auth', message: `registry ${bearer.host} refused the bearer token (401)` });
  });

  it('sends a given bearer token as is (skopeo --registry-token), without asking the realm', async () => {
    const tokenFile = join(certs.dir, 'pull-token');
    await writeFile(tokenFile, tokens.mint([{ type: 'repository', name: REPO, actions: ['pull'] }], 'ci'));
    const before = tokens.requests.length;
    const run = await runYaml(imageYaml(bearer, '6455902', `    token: { file: ${tokenFile} }\n`));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations).toMatchObject({ digest: pushed.bearer, auth: 'token' });
    expect(tokens.requests.length).toBe(before);
  });
});

describe('oci-image against a registry that leaves Docker-Content-Digest off HEAD answers', () => {
  it('GETs the manifest and reports its own hash, and fails a header that does not match the body', async () => {
    const front = await peers.start(startDigestlessFront(basic, certs));
    const run = await runYaml(imageYaml({ ...basic, host: front.host }, '6455902'));
    expect(run.result).toMatchObject({ ok: true });
    expect(run.result.observations).toMatchObject({ digest: pushed.basic, digestVerified: true, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    const liar = await peers.start(startDigestlessFront(basic, certs, { lie: true }));
    const lied = await runYaml(imageYaml({ ...basic, host: liar.host }, '6455902'));
    expect(lied.result).toMatchObject({
      ok: false, reason: 'assertion', message: `registry ${liar.host} says the manifest is sha256:${'0'.repeat(64)}, but its body hashes to ${pushed.basic}`,
    });
  });
});

describe('oci-image: release, TLS, a registry that is down, bad config', () => {
  it('takes the tag from --release ({release} or the tag "release")', async () => {
    for (const tag of ['{release}', 'release']) {
      const run = await runYaml(imageYaml(basic, tag), { release: '6455902' });
      expect(run.result).toMatchObject({ ok: true });
      expect(run.result.observations).toMatchObject({ reference: '6455902', digest: pushed.basic });
    }
    const other = await runYaml(imageYaml(basic, '{release}'), { release: 'abc1234' });
    expect(other.result).toMatchObject({ ok: false, reason: 'assertion', message: `tag abc1234 not found in ${basic.host}/${REPO} (404)` });
    const none = await runYaml(imageYaml(basic, 'release'));
    expect(none.result).toMatchObject({ ok: false, reason: 'config', message: 'image tag is "release" but no release was given (driftwatch run/serve --release TAG)' });
  });

  it('fails with reason tls without the CA, and with reason connect once the registry is stopped', async () => {
    const untrusted = await runYaml(imageYaml(basic, '6455902').replace(`    ca: ${certs.caPath}\n`, ''));
    expect(untrusted.result).toMatchObject({ ok: false, reason: 'tls' });
    expect(untrusted.result.message).toMatch(new RegExp(`^registry ${basic.host}: `));
    await basic.stop();
    try {
      const down = await runYaml(imageYaml(basic, '6455902'));
      expect(down.result).toMatchObject({ ok: false, reason: 'connect' });
      expect(down.result.message).toMatch(new RegExp(`^registry ${basic.host}: .*ECONNREFUSED`));
    } finally {
      await basic.start();
    }
    expect((await runYaml(imageYaml(basic, '6455902'))).result.ok).toBe(true);
  });

  it('rejects a bad reference, credentials half given and an inline password when loading', () => {
    const load = (image: string, extra = '') => () => parseChecks(`checks:\n  - { name: i, type: oci-image, image: "${image}"${extra} }\n`);
    expect(load('Registry.Example/UPPER:tag')).toThrow(/checks\[0\]\.image: must be an image reference/);
    expect(load('registry.example/hub:bad tag')).toThrow(ConfigError);
    expect(load('registry.example/hub:{release}')).not.toThrow();
    expect(load('registry.example/hub@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')).not.toThrow();
    expect(load('registry.example/hub:v1', ', username: u')).toThrow(/checks\[0\]\.password: username needs a password/);
    expect(load('registry.example/hub:v1', ', username: u, password: inline')).toThrow(/checks\[0\]\.password: expected a secret reference/);
    expect(load('registry.example/hub:v1', ', token: { env: T }, username: u, password: { env: P }')).toThrow(/checks\[0\]\.token: give either token or username and password/);
  });
});

describe('oci-image secrets', () => {
  it('never lets the password, the other password or a bearer token reach results, logs, debug steps or samples', async () => {
    const { log, lines } = memoryLogger();
    const outputs: string[] = [];
    const tokenFile = join(certs.dir, 'canary-token');
    const minted = tokens.mint([{ type: 'repository', name: REPO, actions: ['pull'] }], 'ci');
    await writeFile(tokenFile, minted);
    const before = tokens.issued.length;
    for (const yaml of [
      imageYaml(basic, '6455902'),
      imageYaml(basic, '6455902', '    username: tegwick\n    password: { env: DRIFTWATCH_TEST_OTHER_PASSWORD }\n'),
      imageYaml(bearer, '6455902'),
      imageYaml(bearer, 'missing'),
      imageYaml(bearer, '6455902', '    username: tegwick\n    password: { env: DRIFTWATCH_TEST_OTHER_PASSWORD }\n'),
      imageYaml(bearer, '6455902', `    token: { file: ${tokenFile} }\n`),
    ]) {
      const run = await runYaml(yaml, { log, debug: true });
      expect(run.result.steps?.length).toBeGreaterThan(0);
      outputs.push(JSON.stringify(run.result), JSON.stringify(run.samples), JSON.stringify(run.probeSamples()));
    }
    outputs.push(lines());
    const all = outputs.join('\n');
    expect(all).toContain('check failed');
    for (const secret of [CANARY, OTHER_CANARY, Buffer.from(`tegwick:${CANARY}`).toString('base64'), minted, minted.split('.')[2] ?? minted]) {
      expect(all).not.toContain(secret);
    }
    // Nor any bearer token the token server issued to these runs.
    const issued = tokens.issued.slice(before);
    expect(issued.length).toBeGreaterThan(0);
    for (const token of issued) expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toMatch(/eyJ[\w-]{20,}\.eyJ/);
  });
});
