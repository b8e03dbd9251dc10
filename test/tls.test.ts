import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpsPeer, startSilentPeer, type BrokenPeer, type HttpsPeer } from './peers/https.js';
import { parseChecks, runYaml } from './support/checks.js';
import { freePort } from './support/ports.js';
import { PeerSet } from './support/peers.js';

let certs: Certificates;
let ingress: HttpsPeer;
let stale: HttpsPeer;
let expiringSoon: HttpsPeer;
let expired: HttpsPeer;
let wrongName: HttpsPeer;
let unknownCa: HttpsPeer;
let silent: BrokenPeer;
let closedPort: number;
const peers = new PeerSet();

beforeAll(async () => {
  certs = await peers.start(mintCertificates());
  ingress = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.leaf }));
  stale = await peers.start(startHttpsPeer({ host: '127.0.0.3', tls: certs.leaf }));
  expiringSoon = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.expiringSoon }));
  expired = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.expired }));
  wrongName = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.wrongName }));
  unknownCa = await peers.start(startHttpsPeer({ host: '127.0.0.3', tls: certs.unknownCa }));
  silent = await peers.start(startSilentPeer('127.0.0.1'));
  closedPort = await freePort();
});

afterAll(async () => {
  await peers.closeAll();
});

/** A check file with one tls check for the test hostname, pinned to the peer and trusting the test CA. */
function tlsCheck(peer: HttpsPeer, extra: Record<string, unknown> = {}): string {
  const check: Record<string, unknown> = { name: 'hub-cert', type: 'tls', host: certs.hostname, port: peer.port, resolve: peer.host, ca: certs.caPath, timeout: '5s', ...extra };
  return stringify({ checks: [Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined))] });
}

const ISSUER = 'O=driftwatch tests, CN=driftwatch test CA';

describe('tls check', () => {
  it('passes on a good chain for the hostname, on the ingress and on the stale host alike', async () => {
    for (const peer of [ingress, stale]) {
      const { result } = await runYaml(tlsCheck(peer));
      expect(result).toMatchObject({
        ok: true,
        observations: { host: certs.hostname, serverName: certs.hostname, address: peer.host, protocol: 'TLSv1.3', subject: certs.hostname, issuer: ISSUER, sans: [certs.hostname], sansCoverHost: true, chainVerified: true },
      });
      expect(result.observations).not.toHaveProperty('chainError');
      expect(result.observations.notAfter).toBe(new Date(new X509Certificate(certs.leaf.cert).validTo).toISOString());
      expect(result.observations.daysLeft).toBeGreaterThan(89);
      expect(peer.handshakes.at(-1)).toBe(certs.hostname);
    }
  });

  it('days left: fails below minDaysValid (default 14) with reason assertion, passes above it', async () => {
    const short = await runYaml(tlsCheck(expiringSoon));
    expect(short.result).toMatchObject({ ok: false, reason: 'assertion', observations: { chainVerified: true, sansCoverHost: true } });
    expect(short.result.message).toMatch(/^certificate valid 4\.9 more days \(until \d{4}-\d\d-\d\dT[\d:.]+Z\), expected at least 14$/);
    const relaxed = await runYaml(tlsCheck(expiringSoon, { expect: { minDaysValid: 3 } }));
    expect(relaxed.result).toMatchObject({ ok: true });
  });

  it('issuer: passes on a substring of O or CN (any case), fails on another issuer', async () => {
    expect((await runYaml(tlsCheck(ingress, { expect: { issuer: 'DRIFTWATCH TESTS' } }))).result.ok).toBe(true);
    const { result } = await runYaml(tlsCheck(ingress, { expect: { issuer: "Let's Encrypt" } }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: `issuer "${ISSUER}", expected one containing "Let's Encrypt"` });
  });

  it('SAN coverage: fails with reason tls when the names do not cover the host, passes for the name they do cover', async () => {
    const { result } = await runYaml(tlsCheck(wrongName));
    expect(result).toMatchObject({
      ok: false,
      reason: 'tls',
      message: `certificate names [other.${certs.hostname}] do not cover ${certs.hostname}`,
      observations: { sansCoverHost: false, chainVerified: true, sans: [`other.${certs.hostname}`] },
    });
    const named = await runYaml(tlsCheck(wrongName, { serverName: `other.${certs.hostname}` }));
    expect(named.result).toMatchObject({ ok: true, observations: { serverName: `other.${certs.hostname}`, sansCoverHost: true } });
    expect(wrongName.handshakes.at(-1)).toBe(`other.${certs.hostname}`);
  });

  it('chain: fails with reason tls on an unknown CA or without the CA, reports but accepts it with chainVerifies false', async () => {
    const unknown = await runYaml(tlsCheck(unknownCa));
    expect(unknown.result).toMatchObject({
      ok: false,
      reason: 'tls',
      message: 'certificate issuer "O=Elsewhere Inc, CN=unknown test CA" is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
      observations: { chainVerified: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', sansCoverHost: true },
    });
    const noCa = await runYaml(tlsCheck(ingress, { ca: undefined }));
    expect(noCa.result).toMatchObject({ ok: false, reason: 'tls', observations: { chainVerified: false } });
    const accepted = await runYaml(tlsCheck(unknownCa, { expect: { chainVerifies: false } }));
    expect(accepted.result).toMatchObject({ ok: true, observations: { chainVerified: false, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  });

  it('expired: fails with reason tls, even when the chain is not required', async () => {
    for (const chainVerifies of [true, false]) {
      const { result } = await runYaml(tlsCheck(expired, { expect: { chainVerifies } }));
      expect(result).toMatchObject({ ok: false, reason: 'tls', observations: { chainVerified: false, chainError: 'CERT_HAS_EXPIRED' } });
      expect(result.message).toMatch(/^certificate expired at \d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect(result.observations.daysLeft).toBeLessThan(-29);
    }
  });

  it('fails with reason config when the ca file cannot be read', async () => {
    const { result } = await runYaml(tlsCheck(ingress, { ca: `${certs.dir}/missing.pem` }));
    expect(result).toMatchObject({ ok: false, reason: 'config', message: `ca file ${certs.dir}/missing.pem cannot be read (ENOENT)` });
  });

  it('reports every problem at once, tls first', async () => {
    const { result } = await runYaml(tlsCheck(expiringSoon, { expect: { issuer: 'Elsewhere' }, serverName: 'wrong.example' }));
    expect(result.reason).toBe('tls');
    expect(result.message).toMatch(/^certificate names \[hub\.driftwatch\.test\] do not cover wrong\.example; certificate valid 4\.9 more days .*, expected at least 14; issuer ".*", expected one containing "Elsewhere"$/);
  });

  it('fails with reason connect on a closed port and timeout on a silent one', async () => {
    const refused = await runYaml(stringify({ checks: [{ name: 'closed', type: 'tls', host: '127.0.0.1', port: closedPort }] }));
    expect(refused.result).toMatchObject({ ok: false, reason: 'connect' });
    expect(refused.result.message).toContain('ECONNREFUSED');
    const hung = await runYaml(stringify({ checks: [{ name: 'hung', type: 'tls', host: '127.0.0.1', port: silent.port, timeout: '500ms' }] }));
    expect(hung.result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 500ms' });
    expect(hung.result.durationMs).toBeLessThan(5000);
  });

  it('gives the expiry gauge and blackbox-named probe samples', async () => {
    const run = await runYaml(tlsCheck(ingress));
    const notAfter = Date.parse(new X509Certificate(certs.leaf.cert).validTo) / 1000;
    expect(run.samples).toEqual([{ name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: notAfter }]);
    const probe = run.probeSamples();
    expect(probe.find((s) => s.name === 'probe_ssl_earliest_cert_expiry')?.value).toBe(notAfter);
    expect(probe.find((s) => s.name === 'probe_tls_version_info')).toMatchObject({ labels: { version: 'TLS 1.3' }, value: 1 });
  });
});

describe('tls check configuration', () => {
  it('defaults: port 443, minDaysValid 14, chainVerifies true; the target is host:port', () => {
    const [loaded] = parseChecks(stringify({ checks: [{ name: 'cert', type: 'tls', host: 'hub.example.com' }] }));
    expect(loaded?.spec).toMatchObject({ port: 443, expect: { minDaysValid: 14, chainVerifies: true } });
    expect(loaded?.bound.target).toBe('hub.example.com:443');
    expect(loaded?.bound.retarget('other.example.com:8443')).toMatchObject({ host: 'other.example.com', port: 8443 });
  });

  it.each([
    ['port: 0', 'test.yaml:1:57: checks[0].port: must be at least 1 (got 0)'],
    ['resolve: "10.0.0"', 'test.yaml:1:60: checks[0].resolve: expected an IPv4 or IPv6 address'],
    ['expect: { minDays: 3 }', 'test.yaml:1:61: checks[0].expect.minDays: unknown key "minDays" (accepted: minDaysValid, issuer, chainVerifies)'],
    ['expect: { chainVerifies: "yes" }', 'test.yaml:1:76: checks[0].expect.chainVerifies: expected true or false (got "yes")'],
  ])('rejects %s', (fragment, problem) => {
    let error: unknown;
    try {
      parseChecks(`checks: [{ name: cert, type: tls, host: hub.test, ${fragment} }]`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([problem]);
  });
});

