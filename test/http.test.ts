import { randomBytes, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { httpRequest, HttpRequestError, MAX_BODY_BYTES } from '../src/net/http-request.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startEndlessPeer, startHttpPeer, startHttpsPeer, startResettingPeer, startSilentPeer, type BrokenPeer, type HttpPeer, type HttpsPeer } from './peers/https.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { freePort } from './support/ports.js';
import { PeerSet } from './support/peers.js';

const CANARY_ENV = 'DW_TEST_HTTP_CANARY';
const envCanary = `canary-env-${randomBytes(8).toString('hex')}`;
const fileCanary = `canary-file-${randomBytes(8).toString('hex')}`;
const INFO = { info: { title: 'hub', version: '2.1.0' }, items: [{ name: 'alpha' }, { name: 'beta' }] };

let certs: Certificates;
let ingress: HttpsPeer;
let stale: HttpsPeer;
let expired: HttpsPeer;
let wrongName: HttpsPeer;
let unknownCa: HttpsPeer;
let plain: HttpPeer;
let elsewhere: HttpPeer;
let silent: BrokenPeer;
let resetting: BrokenPeer;
let endless: BrokenPeer;
let trickle: BrokenPeer;
let closedPort: number;
let canaryFile: string;
const peers = new PeerSet();

beforeAll(async () => {
  certs = await peers.start(mintCertificates());
  ingress = await peers.start(
    startHttpsPeer({
      host: '127.0.0.2',
      tls: certs.leaf,
      routes: {
        '/api/v2/hubs': { status: 401, body: 'unauthorized' },
        '/api/info': { body: INFO, headers: { 'x-api-version': '2.1.0' } },
        '/slow': { body: 'late', delayMs: 300 },
        '/old': { status: 302, headers: { location: '/api/info' } },
        '/loop': { status: 302, headers: { location: '/loop' } },
        // Echoes the credentials back, as a misbehaving debug endpoint would.
        '/echo': (req) => ({
          body: { token: req.headers.authorization, key: req.headers['x-api-key'] },
          headers: { 'x-echo-token': String(req.headers.authorization), 'x-echo-key': String(req.headers['x-api-key']) },
        }),
      },
    }),
  );
  stale = await peers.start(startHttpsPeer({ host: '127.0.0.3', tls: certs.leaf, routes: { '/api/v2/hubs': { status: 404, body: 'old api' } } }));
  expired = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.expired }));
  wrongName = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.wrongName }));
  unknownCa = await peers.start(startHttpsPeer({ host: '127.0.0.2', tls: certs.unknownCa }));
  elsewhere = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/landing': { body: 'landed' } } }));
  plain = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/': { body: 'hello' }, '/away': { status: 307, headers: { location: elsewhere.url('/landing') } } } }));
  silent = await peers.start(startSilentPeer('127.0.0.1'));
  resetting = await peers.start(startResettingPeer('127.0.0.1'));
  endless = await peers.start(startEndlessPeer('127.0.0.1'));
  trickle = await peers.start(startEndlessPeer('127.0.0.1', 50));
  closedPort = await freePort();
  process.env[CANARY_ENV] = envCanary;
  canaryFile = join(certs.dir, 'api-key');
  await writeFile(canaryFile, `${fileCanary}\n`);
});

afterAll(async () => {
  Reflect.deleteProperty(process.env, CANARY_ENV);
  await peers.closeAll();
});

/** A check file with one http check, pinned to the peer's address and trusting the test CA. */
function httpCheck(peer: HttpPeer, path: string, extra: Record<string, unknown> = {}): string {
  const check: Record<string, unknown> = { name: 'hub', type: 'http', url: peer.url(path, certs.hostname), resolve: peer.host, ca: certs.caPath, timeout: '5s', ...extra };
  return stringify({ checks: [Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined))] });
}

describe('http check pinned to an IP (resolve)', () => {
  it('reaches the ingress on 127.0.0.2 under the hostname: SNI and Host are the hostname', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/api/v2/hubs', { expect: { status: [401] } }));
    expect(result).toMatchObject({ ok: true, message: 'ok', observations: { status: 401, via: '127.0.0.2', address: '127.0.0.2', method: 'GET' } });
    const seen = ingress.requests.at(-1);
    expect(seen).toMatchObject({ path: '/api/v2/hubs', servername: certs.hostname, host: `${certs.hostname}:${ingress.port}` });
  });

  it('reaches the stale host on 127.0.0.3 under the same hostname and fails on its 404', async () => {
    const { result } = await runYaml(httpCheck(stale, '/api/v2/hubs', { expect: { status: [401] } }));
    expect(result).toMatchObject({ ok: false, reason: 'status', message: 'status 404, expected 401', observations: { status: 404, via: '127.0.0.3', address: '127.0.0.3' } });
    expect(stale.requests.at(-1)).toMatchObject({ servername: certs.hostname, host: `${certs.hostname}:${stale.port}` });
  });

  it.each([
    ['a wrong-name', () => wrongName, 'certificate names [other.hub.driftwatch.test] do not cover hub.driftwatch.test (ERR_TLS_CERT_ALTNAME_INVALID)'],
    ['an expired', () => expired, /^certificate expired at \d{4}-\d\d-\d\dT.* \(CERT_HAS_EXPIRED\)$/],
    ['an unknown-CA', () => unknownCa, 'certificate issuer "O=Elsewhere Inc, CN=unknown test CA" is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)'],
  ])('fails %s certificate with reason tls, before sending a request', async (_kind, peer, message) => {
    const { result } = await runYaml(httpCheck(peer(), '/', { headers: { Authorization: { env: CANARY_ENV } } }));
    expect(result).toMatchObject({ ok: false, reason: 'tls', observations: { address: '127.0.0.2', tls: { verified: false } } });
    expect(result.message).toMatch(message);
    expect(peer().requests).toHaveLength(0);
  });

  it('fails with reason tls when the CA is not given (system roots do not know it)', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/api/v2/hubs', { ca: undefined, expect: { status: [401] } }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('fails with reason config when the ca file cannot be read', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/api/v2/hubs', { ca: join(certs.dir, 'missing.pem') }));
    expect(result).toMatchObject({ ok: false, reason: 'config', message: `ca file ${join(certs.dir, 'missing.pem')} cannot be read (ENOENT)` });
  });

  it('accepts an expired certificate with insecureSkipVerify and still reports it', async () => {
    const { result } = await runYaml(httpCheck(expired, '/', { insecureSkipVerify: true, expect: { status: [404] } }));
    expect(result).toMatchObject({ ok: true, observations: { status: 404, tls: { verified: false, verifyError: 'CERT_HAS_EXPIRED' } } });
    const tls = result.observations.tls as { certificate: { daysLeft: number } };
    expect(tls.certificate.daysLeft).toBeLessThan(-29);
  });
});

describe('http check against misbehaving targets', () => {
  it('times out on a target that accepts and never answers, within the check timeout', async () => {
    for (const scheme of ['http', 'https']) {
      const { result } = await runYaml(stringify({ checks: [{ name: 'hang', type: 'http', url: `${scheme}://127.0.0.1:${silent.port}/`, timeout: '500ms' }] }));
      expect(result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 500ms' });
      expect(result.durationMs).toBeLessThan(5000);
    }
  });

  it('fails with reason connect on a reset and on a closed port', async () => {
    const reset = await runYaml(stringify({ checks: [{ name: 'reset', type: 'http', url: `http://127.0.0.1:${resetting.port}/` }] }));
    expect(reset.result).toMatchObject({ ok: false, reason: 'connect' });
    expect(reset.result.message).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    const refused = await runYaml(stringify({ checks: [{ name: 'refused', type: 'http', url: `http://127.0.0.1:${closedPort}/` }] }));
    expect(refused.result).toMatchObject({ ok: false, reason: 'connect', observations: { address: '127.0.0.1', via: 'dns' } });
    expect(refused.result.message).toContain('ECONNREFUSED');
  });

  it('stops an endless body at maxBodyBytes with reason assertion', async () => {
    const { result } = await runYaml(stringify({ checks: [{ name: 'endless', type: 'http', url: `http://127.0.0.1:${endless.port}/` }] }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'body exceeds maxBodyBytes 1048576', observations: { status: 200 } });
  });

  it('never reads more than 64 MiB, whatever cap a caller passes (the schema refuses more)', async () => {
    const error: unknown = await httpRequest({ url: `http://127.0.0.1:${endless.port}/`, maxBodyBytes: 1e9, signal: AbortSignal.timeout(20_000) }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HttpRequestError);
    expect(error).toMatchObject({ code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE', message: `body exceeds maxBodyBytes ${MAX_BODY_BYTES}` });
  });

  it('times out on an endless trickle under a large cap', async () => {
    const yaml = stringify({ checks: [{ name: 'trickle', type: 'http', url: `http://127.0.0.1:${trickle.port}/`, maxBodyBytes: MAX_BODY_BYTES, timeout: '500ms' }] });
    const { result } = await runYaml(yaml);
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.durationMs).toBeLessThan(5000);
  });
});

describe('secrets in request headers', () => {
  const secretHeaders = { Authorization: { env: CANARY_ENV }, 'X-Api-Key': { file: '' } };

  it('never shows env or file canaries, even when the server echoes them into a failing expectation', async () => {
    const { log, lines } = memoryLogger();
    const expectations = { headers: { 'x-echo-token': 'something else', 'x-echo-key': { matches: '^nope$' } }, json: { token: 'other' }, bodyContains: 'absent' };
    const run = await runYaml(httpCheck(ingress, '/echo', { headers: { ...secretHeaders, 'X-Api-Key': { file: canaryFile } }, expect: expectations }), { debug: true, log });
    // The server did receive both values, so the check really sent them.
    expect(ingress.requests.at(-1)?.headers).toMatchObject({ authorization: envCanary, 'x-api-key': fileCanary });
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion' });
    expect(run.result.message).toContain('header x-echo-token is "[secret]", expected "something else"');
    expect(run.result.message).toContain('json token is "[secret]", expected "other"');
    expect(run.result.steps?.length).toBeGreaterThan(3);
    const outputs = [JSON.stringify(run.result), lines(), JSON.stringify(run.samples), JSON.stringify(run.probeSamples())];
    for (const output of outputs) {
      expect(output).not.toContain(envCanary);
      expect(output).not.toContain(fileCanary);
    }
    expect(lines()).toContain('check failed');
  });

  it('keeps canaries out of error messages when the request fails', async () => {
    const { log, lines } = memoryLogger();
    for (const peer of [unknownCa, stale]) {
      const yaml = httpCheck(peer, '/echo', { headers: { ...secretHeaders, 'X-Api-Key': { file: canaryFile } }, expect: { status: [200] } });
      const { result } = await runYaml(yaml, { debug: true, log });
      expect(result.ok).toBe(false);
      for (const output of [result.message, JSON.stringify(result), lines()]) {
        expect(output).not.toContain(envCanary);
        expect(output).not.toContain(fileCanary);
      }
    }
  });
});

describe('phases and certificate', () => {
  it('reports consistent phase timings, the TLS version and the certificate', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/api/info'));
    expect(result.ok).toBe(true);
    const o = result.observations as { phases: Record<string, number>; totalMs: number; firstByteMs: number; tls: { version: string; verified: boolean; certificate: Record<string, unknown> } };
    expect(Object.keys(o.phases).sort()).toEqual(['connect', 'dns', 'processing', 'tls', 'transfer']);
    for (const value of Object.values(o.phases)) expect(value).toBeGreaterThanOrEqual(0);
    const sum = Object.values(o.phases).reduce((a, b) => a + b, 0);
    expect(sum).toBeLessThanOrEqual(o.totalMs);
    expect(o.phases.tls).toBeGreaterThan(0);
    expect(o.firstByteMs).toBeLessThanOrEqual(o.totalMs);
    expect(o.tls).toMatchObject({ version: 'TLSv1.3', verified: true });
    expect(o.tls.certificate).toMatchObject({ subject: certs.hostname, sans: [certs.hostname], issuer: { commonName: 'driftwatch test CA', organization: 'driftwatch tests' } });
    expect(o.tls.certificate.daysLeft).toBeGreaterThan(89);
    expect(o.tls.certificate.daysLeft).toBeLessThan(90.1);
    expect(o.tls.certificate.validTo).toBe(new Date(new X509Certificate(certs.leaf.cert).validTo).toISOString());
    expect(o.tls.certificate.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(result.observations).toMatchObject({ bodyBytes: JSON.stringify(INFO).length });
    expect(JSON.stringify(result.observations)).not.toContain('alpha');
  });

  it('resolves the hostname through DNS when nothing is pinned (localhost, plain HTTP)', async () => {
    const { result } = await runYaml(stringify({ checks: [{ name: 'local', type: 'http', url: `http://localhost:${plain.port}/`, expect: { bodyContains: 'hello' } }] }));
    expect(result).toMatchObject({ ok: true, observations: { via: 'dns', address: '127.0.0.1', status: 200 } });
    expect(result.steps?.find((s) => s.step === 'dns')?.data).toMatchObject({ hostname: 'localhost', pinned: false });
    expect(result.observations).not.toHaveProperty('tls');
  });
});

describe('expectations', () => {
  it.each<[string, string, Record<string, unknown>]>([
    ['status class', '/api/info', { status: ['2xx'] }],
    ['status list', '/api/v2/hubs', { status: [200, 401] }],
    ['bodyContains', '/api/info', { bodyContains: ['2.1.0', 'beta'] }],
    ['bodyMatches', '/api/info', { bodyMatches: '"version":\\s*"2\\.' }],
    ['json', '/api/info', { json: { 'info.version': '2.1.0', 'items[1].name': 'beta', items: [{ name: 'alpha' }, { name: 'beta' }] } }],
    ['headers', '/api/info', { headers: { 'X-Api-Version': '2.1.0', 'content-type': { matches: '^application/json' } } }],
    ['maxDuration', '/api/info', { maxDuration: '10s' }],
    ['certMinDaysValid', '/api/info', { certMinDaysValid: 30 }],
  ])('%s passes', async (_kind, path, expectations) => {
    const { result } = await runYaml(httpCheck(ingress, path, { expect: expectations }));
    expect(result).toMatchObject({ ok: true, message: 'ok' });
  });

  it.each<[string, string, Record<string, unknown>, string, string | RegExp]>([
    ['status class', '/missing', { status: ['2xx'] }, 'status', 'status 404, expected 2xx'],
    ['status list', '/api/info', { status: [401, 403] }, 'status', 'status 200, expected 401 or 403'],
    ['bodyContains', '/api/info', { bodyContains: '3.0.0' }, 'assertion', `body does not contain "3.0.0" (${JSON.stringify(INFO).length} bytes)`],
    ['bodyMatches', '/api/info', { bodyMatches: '^<html' }, 'assertion', `body does not match /^<html/ (${JSON.stringify(INFO).length} bytes)`],
    ['json value', '/api/info', { json: { 'info.version': '3.0.0' } }, 'assertion', 'json info.version is "2.1.0", expected "3.0.0"'],
    ['json path', '/api/info', { json: { 'items[5].name': 'zeta' } }, 'assertion', 'json items[5].name is missing, expected "zeta"'],
    ['json body', '/slow', { json: { 'info.version': '2.1.0' } }, 'assertion', 'body is not JSON (text/plain), expected values at info.version'],
    ['header value', '/api/info', { headers: { 'x-api-version': '3.0.0' } }, 'assertion', 'header x-api-version is "2.1.0", expected "3.0.0"'],
    ['header pattern', '/api/info', { headers: { 'content-type': { matches: '^text/' } } }, 'assertion', 'header content-type is "application/json", expected to match /^text//'],
    ['header missing', '/api/info', { headers: { 'x-missing': 'yes' } }, 'assertion', 'header x-missing is missing, expected "yes"'],
    ['maxDuration', '/slow', { maxDuration: '100ms' }, 'assertion', /^took \d+ms, expected at most 100ms$/],
    ['certMinDaysValid', '/api/info', { certMinDaysValid: 100 }, 'assertion', /^certificate \(O=driftwatch tests, CN=driftwatch test CA\) valid 89\.\d more days \(until \d{4}-.*Z\), expected at least 100$/],
  ])('%s fails with its message', async (_kind, path, expectations, reason, message) => {
    const { result } = await runYaml(httpCheck(ingress, path, { expect: expectations }));
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.message).toMatch(message);
  });

  it('reports every failed expectation at once', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/api/info', { expect: { bodyContains: 'nope', headers: { 'x-api-version': '1' } } }));
    expect(result.message).toBe(`body does not contain "nope" (${JSON.stringify(INFO).length} bytes); header x-api-version is "2.1.0", expected "1"`);
  });
});

describe('redirects', () => {
  it('reports a 3xx unless followRedirects, then follows it', async () => {
    const unfollowed = await runYaml(httpCheck(ingress, '/old'));
    expect(unfollowed.result).toMatchObject({ ok: false, reason: 'status', message: 'status 302, expected 2xx' });
    const followed = await runYaml(httpCheck(ingress, '/old', { followRedirects: true, expect: { json: { 'info.title': 'hub' } } }));
    expect(followed.result).toMatchObject({ ok: true, observations: { status: 200, redirects: 1, finalUrl: ingress.url('/api/info', certs.hostname) } });
  });

  it('keeps credentials from another origin it is redirected to', async () => {
    const yaml = stringify({ checks: [{ name: 'away', type: 'http', url: plain.url('/away'), followRedirects: true, headers: { Authorization: { env: CANARY_ENV }, 'X-Trace': 'kept' }, redirectHeaders: ['X-Trace'], expect: { bodyContains: 'landed' } }] });
    const { result } = await runYaml(yaml);
    expect(result).toMatchObject({ ok: true, observations: { redirects: 1, finalUrl: elsewhere.url('/landing') } });
    expect(plain.requests.at(-1)?.headers.authorization).toBe(envCanary);
    expect(elsewhere.requests.at(-1)?.headers).toMatchObject({ 'x-trace': 'kept' });
    expect(elsewhere.requests.at(-1)?.headers).not.toHaveProperty('authorization');
  });

  it('gives up after 10 redirects', async () => {
    const { result } = await runYaml(httpCheck(ingress, '/loop', { followRedirects: true }));
    expect(result).toMatchObject({ ok: false, reason: 'status', message: 'status 302 after 10 redirects, expected 2xx', observations: { redirects: 10 } });
  });
});

describe('request method and body', () => {
  it('sends a POST body with its length and the Host of the URL; reads no body after HEAD', async () => {
    const post = await runYaml(stringify({ checks: [{ name: 'post', type: 'http', url: plain.url('/'), method: 'POST', body: '{"ping":1}', headers: { 'Content-Type': 'application/json' } }] }));
    expect(post.result).toMatchObject({ ok: true, observations: { status: 200, bodyBytes: 5 } });
    const seen = plain.requests.at(-1);
    expect(seen).toMatchObject({ method: 'POST', path: '/', body: '{"ping":1}', host: `127.0.0.1:${plain.port}` });
    expect(seen?.headers).toMatchObject({ 'content-length': '10', 'content-type': 'application/json' });
    const head = await runYaml(stringify({ checks: [{ name: 'head', type: 'http', url: plain.url('/'), method: 'HEAD' }] }));
    expect(head.result).toMatchObject({ ok: true, observations: { status: 200, bodyBytes: 0 } });
    expect(plain.requests.at(-1)).toMatchObject({ method: 'HEAD', body: '' });
  });
});

describe('metric samples', () => {
  it('gives status, phases and certificate expiry, and blackbox-named probe samples', async () => {
    const run = await runYaml(httpCheck(ingress, '/api/v2/hubs', { expect: { status: [401] } }));
    const notAfter = Date.parse((run.result.observations.tls as { certificate: { validTo: string } }).certificate.validTo) / 1000;
    expect(run.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: '127.0.0.2' }, value: 401 });
    const phases = run.samples.filter((s) => s.name === 'driftwatch_http_phase_duration_seconds');
    expect(phases.map((s) => s.labels?.phase)).toEqual(['dns', 'connect', 'tls', 'processing', 'transfer']);
    for (const sample of phases) expect(sample.labels?.via).toBe('127.0.0.2');
    expect(run.samples).toContainEqual({ name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: notAfter });
    const probe = run.probeSamples();
    const byName = (name: string) => probe.filter((s) => s.name === name);
    expect(byName('probe_http_status_code')[0]?.value).toBe(401);
    expect(byName('probe_http_duration_seconds').map((s) => s.labels?.phase)).toEqual(['resolve', 'connect', 'tls', 'processing', 'transfer']);
    expect(byName('probe_ssl_earliest_cert_expiry')[0]?.value).toBe(notAfter);
    expect(byName('probe_http_ssl')[0]?.value).toBe(1);
    // The peer answers chunked: no Content-Length, so -1 as blackbox says; the body length apart.
    expect(byName('probe_http_content_length')[0]?.value).toBe(-1);
    expect(byName('probe_http_uncompressed_body_length')[0]?.value).toBe('unauthorized'.length);
    expect(byName('probe_http_version')[0]?.value).toBe(1.1);
    expect(byName('probe_ip_protocol')[0]?.value).toBe(4);
    expect(byName('probe_tls_version_info')[0]).toMatchObject({ labels: { version: 'TLS 1.3' }, value: 1 });
    expect(byName('probe_http_redirects')[0]?.value).toBe(0);
  });

  it('gives status 0 and no phases when nothing answered; the probe series at 0, as blackbox does', async () => {
    const run = await runYaml(stringify({ checks: [{ name: 'refused', type: 'http', url: `http://127.0.0.1:${closedPort}/` }] }));
    expect(run.samples).toEqual([{ name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 0 }]);
    const probe = new Map(run.probeSamples().map((s) => [`${s.name}${s.labels?.phase ? `{${s.labels.phase}}` : ''}`, s.value]));
    for (const name of ['probe_http_status_code', 'probe_http_content_length', 'probe_http_uncompressed_body_length', 'probe_http_version', 'probe_http_ssl', 'probe_http_redirects', 'probe_failed_due_to_regex', 'probe_http_duration_seconds{processing}', 'probe_http_duration_seconds{transfer}', 'probe_http_duration_seconds{tls}']) {
      expect(probe.get(name), name).toBe(0);
    }
    // The address was dialled: blackbox reports it too.
    expect(probe.get('probe_ip_protocol')).toBe(4);
    expect(probe.get('probe_ip_addr_hash')).toBe(3668918509);
    expect(probe.has('probe_ssl_earliest_cert_expiry')).toBe(false);
  });
});

describe('http check configuration', () => {
  it('defaults: GET, status 2xx, no redirects, 1 MiB body cap, verification on', () => {
    const [loaded] = parseChecks(stringify({ checks: [{ name: 'hub', type: 'http', url: 'https://hub.example.com/' }] }));
    expect(loaded?.spec).toMatchObject({ method: 'GET', followRedirects: false, insecureSkipVerify: false, maxBodyBytes: 1048576, expect: { status: ['2xx'] } });
    expect(loaded?.bound.target).toBe('https://hub.example.com/');
  });

  it('a /probe target override replaces the url and drops the pinned IP', () => {
    const [loaded] = parseChecks(stringify({ checks: [{ name: 'hub', type: 'http', url: 'https://hub.example.com/', resolve: '127.0.0.2' }] }));
    expect(loaded?.bound.retarget('https://other.example.com/x')).toMatchObject({ url: 'https://other.example.com/x', resolve: undefined });
  });

  it.each([
    ['url: ftp://hub.example.com/', 'test.yaml:1:40: checks[0].url: expected an http:// or https:// URL (got "ftp://hub.example.com/")'],
    ['resolve: hub.example.com', 'test.yaml:1:77: checks[0].resolve: expected an IPv4 or IPv6 address'],
    ['method: FETCH', 'test.yaml:1:76: checks[0].method: expected one of "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" (got "FETCH")'],
    ['headers: { Authorization: { vault: x } }', 'test.yaml:1:94: checks[0].headers.Authorization: expected a string or a secret reference ({ env: NAME } or { file: /path })'],
    ['expect: { status: [6xx] }', 'test.yaml:1:87: checks[0].expect.status[0]: expected a status code or a class from 1xx to 5xx (got "6xx")'],
    ['expect: { bodyMatches: "(" }', 'test.yaml:1:91: checks[0].expect.bodyMatches: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ): `(`'],
    ['expect: { json: { "a..b": 1 } }', 'test.yaml:1:86: checks[0].expect.json.a..b: expected a path like info.version or items[0].name'],
    ['expect: { certMinDaysValid: 30 }', 'test.yaml:1:95: checks[0].expect.certMinDaysValid: needs an https:// url'],
    ['expect: { statuses: [200] }', 'test.yaml:1:78: checks[0].expect.statuses: unknown key "statuses" (accepted: status, bodyContains, json, bodyMatches, bodyNotMatches, headers, https, httpVersions, maxDuration, certMinDaysValid)'],
  ])('rejects %s', (fragment, problem) => {
    const url = fragment.startsWith('expect: { certMinDaysValid') ? 'http://hub.example.com/' : 'https://hub.example.com/';
    const yaml = fragment.startsWith('url:') ? `checks: [{ name: hub, type: http, ${fragment} }]` : `checks: [{ name: hub, type: http, url: "${url}", ${fragment} }]`;
    let error: unknown;
    try {
      parseChecks(yaml);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([problem]);
  });
});

