import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { httpRequest, HttpRequestError } from '../src/net/http-request.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { collect, runCli, startCli } from './support/cli.js';
import { runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';
import { freePort } from './support/ports.js';

/**
 * A TLS host serving a certificate whose notAfter (or notBefore) no parser can read
 * (`99AB31235959Z`: Node reports valid_to "Bad time value"). It used to throw inside the TLS
 * secureConnect listener and end the process; every check that speaks TLS must fail with reason
 * tls and name the field instead, and `run` and `serve` must carry on.
 */
const BAD_TIME = '99AB31235959Z';
const NOT_AFTER = /certificate has a malformed notAfter field \("Bad time value"\) \(ERROR_IN_CERT_NOT_AFTER_FIELD\)/;

let certs: Certificates;
let badNotAfter: HttpsPeer;
let badNotBefore: HttpsPeer;
let redirector: HttpsPeer;
let knot: Knot;
let dir: string;
const peers = new PeerSet();

beforeAll(async () => {
  certs = await peers.start(mintCertificates());
  const notAfter = await certs.mintMalformedLeaf('notAfter', BAD_TIME);
  const notBefore = await certs.mintMalformedLeaf('notBefore', BAD_TIME);
  badNotAfter = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: notAfter, routes: { '/': { body: 'served anyway' }, '/openapi.json': { body: { openapi: '3.0.3', paths: {} } } } }));
  badNotBefore = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: notBefore, routes: { '/': { body: 'served anyway' } } }));
  // A good host whose redirect leads to the malformed one (same hostname, same pinned address).
  redirector = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.leaf, routes: { '/go': { status: 302, headers: { location: badNotAfter.url('/', certs.hostname) } } } }));
  knot = await peers.start(startKnot({ zones: { 'driftwatch.test': ['hub 300 A 127.0.0.2'] } }));
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-malformed-'));
});

afterAll(async () => {
  await peers.closeAll();
  await rm(dir, { recursive: true, force: true });
});

function yamlOf(...checks: Record<string, unknown>[]): string {
  return stringify({ checks: checks.map((check) => ({ timeout: '5s', ...check })) });
}

const httpCheck = (peer: HttpsPeer, extra: Record<string, unknown> = {}) => ({ name: 'hub', type: 'http', url: peer.url('/', certs.hostname), resolve: peer.host, ca: certs.caPath, ...extra });

describe('a certificate with an unreadable validity time', () => {
  it('the server really sends it and Node cannot read its notAfter (the test can fail)', async () => {
    const { result } = await runYaml(yamlOf({ name: 'cert', type: 'tls', host: certs.hostname, port: badNotAfter.port, resolve: '127.0.0.2', ca: certs.caPath }));
    expect(badNotAfter.handshakes).toContain(certs.hostname);
    expect(result.observations).toMatchObject({ protocol: 'TLSv1.3', chainError: 'ERROR_IN_CERT_NOT_AFTER_FIELD' });
  });

  it.each([
    ['verified', {}],
    ['with insecureSkipVerify', { insecureSkipVerify: true }],
  ])('fails an http check with reason tls naming notAfter (%s), before any request', async (_kind, extra) => {
    const before = badNotAfter.requests.length;
    const { result } = await runYaml(yamlOf(httpCheck(badNotAfter, { headers: { 'X-Probe': 'yes' }, ...extra })));
    expect(result).toMatchObject({ ok: false, reason: 'tls', observations: { address: '127.0.0.2', tls: { version: 'TLSv1.3', verified: false } } });
    expect(result.message).toMatch(NOT_AFTER);
    expect(badNotAfter.requests).toHaveLength(before);
  });

  it('names notBefore when that is the field that cannot be read', async () => {
    const { result } = await runYaml(yamlOf(httpCheck(badNotBefore, { insecureSkipVerify: true })));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(/certificate has a malformed notBefore field \("Bad time value"\) \(ERROR_IN_CERT_NOT_BEFORE_FIELD\)/);
  });

  it('fails an http check reaching it through a redirect', async () => {
    const { result } = await runYaml(yamlOf({ ...httpCheck(redirector), url: redirector.url('/go', certs.hostname), followRedirects: true }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(NOT_AFTER);
    expect(redirector.requests.at(-1)?.path).toBe('/go');
  });

  it('fails an openapi check with reason tls', async () => {
    const { result } = await runYaml(yamlOf({ name: 'doc', type: 'openapi', url: badNotAfter.url('/openapi.json', certs.hostname), resolve: '127.0.0.2', ca: certs.caPath, insecureSkipVerify: true }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(NOT_AFTER);
  });

  it('fails an ingress check with reason tls (verdict cert-mismatch)', async () => {
    const check = { name: 'gate', type: 'ingress', url: badNotAfter.url('/', certs.hostname), ingress: ['127.0.0.2'], resolvers: [knot.address], ca: certs.caPath };
    const { result } = await runYaml(yamlOf(check));
    expect(result).toMatchObject({ ok: false, reason: 'tls', observations: { verdict: 'cert-mismatch' } });
    const [address] = result.observations.addresses as { error: { message: string } }[];
    expect(address?.error.message).toMatch(NOT_AFTER);
  });

  it('fails a tls check with reason tls, still reporting the handshake', async () => {
    const { result } = await runYaml(yamlOf({ name: 'cert', type: 'tls', host: certs.hostname, port: badNotAfter.port, resolve: '127.0.0.2', ca: certs.caPath, expect: { chainVerifies: false } }));
    expect(result).toMatchObject({ ok: false, reason: 'tls', observations: { host: certs.hostname, address: '127.0.0.2', protocol: 'TLSv1.3' } });
    expect(result.message).toMatch(NOT_AFTER);
  });
});

describe('every listener on the request path turns a throw into a failed request', () => {
  // The trace callback runs inside each listener (lookup, connect, secureConnect, response, end): a throw there stands for any bug in one.
  it.each(['dns', 'connected', 'tls', 'response', 'body'])('a throw in the %s listener rejects the request', async (step) => {
    const request = httpRequest({
      url: redirector.url('/go', certs.hostname),
      resolve: '127.0.0.2',
      ca: certs.caPath,
      signal: AbortSignal.timeout(5000),
      trace: (name) => {
        if (name === step) throw new Error(`thrown in ${step}`);
      },
    });
    const error: unknown = await request.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HttpRequestError);
    expect((error as HttpRequestError).message).toBe(`thrown in ${step}`);
  });
});

describe('the commands carry on', { timeout: 60_000 }, () => {
  async function checksFile(name: string, interval?: string): Promise<string> {
    const file = join(dir, `${name}.yaml`);
    const every = interval && { interval, timeout: interval };
    const checks = [
      { ...httpCheck(badNotAfter), name: 'bad-cert', ...every },
      { name: 'bad-cert-skip', type: 'http', url: badNotAfter.url('/', certs.hostname), resolve: '127.0.0.2', insecureSkipVerify: true, ...every },
      { name: 'bad-cert-tls', type: 'tls', host: certs.hostname, port: badNotAfter.port, resolve: '127.0.0.2', ca: certs.caPath, ...every },
    ];
    await writeFile(file, yamlOf(...checks));
    return file;
  }

  it('run prints its table and writes the JUnit report, exit 1', async () => {
    const junit = join(dir, 'report.xml');
    const { code, stdout, stderr } = await runCli(['run', '--checks', await checksFile('run'), '--junit', junit]);
    expect(stderr).not.toContain('RangeError');
    expect(code).toBe(1);
    for (const name of ['bad-cert', 'bad-cert-skip', 'bad-cert-tls']) expect(stdout).toMatch(new RegExp(`${name}\\s.*tls`));
    const report = await readFile(junit, 'utf8');
    expect(report).toContain('<testsuite');
    expect(report.match(/<failure/g)).toHaveLength(3);
    expect(report).toContain('ERROR_IN_CERT_NOT_AFTER_FIELD');
  });

  it('serve keeps running and answering while the checks fail again and again', async () => {
    const port = await freePort();
    const child = startCli(['serve', '--checks', await checksFile('serve', '500ms'), '--listen', `127.0.0.1:${port}`]);
    const done = collect(child, 50_000);
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 30_000;
      let streak = 0;
      // Several failing runs of each check, then the daemon must still answer.
      while (streak < 3) {
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error('the checks did not fail three times in a row within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const answer = await fetch(`${base}/api/v1/checks`).catch(() => undefined);
        if (!answer?.ok) continue;
        const { checks } = (await answer.json()) as { checks: { name: string; streak: number; last?: { reason?: string } }[] };
        expect(checks.filter((c) => c.last !== undefined).every((c) => c.last?.reason === 'tls')).toBe(true);
        streak = Math.min(...checks.map((c) => (c.last === undefined ? 0 : c.streak)));
      }
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      const { stderr } = await done;
      expect(stderr).not.toContain('RangeError');
    }
  });
});
