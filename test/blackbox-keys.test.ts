import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { startHttpPeer, startHttpsPeer, type HttpPeer, type HttpsPeer } from './peers/https.js';
import { mintCertificates } from './peers/certs.js';
import { startKnot, type Knot } from './peers/knot.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/*
 * The check keys common blackbox modules need: negative body and header regexes, https and HTTP
 * version expectations, basic auth from a secret, the address family preference, record regexes
 * and SOA. Each is shown against a real peer, and each bad input gets its own message.
 */

/** Every problem of a one-check file, as `driftwatch validate` prints them. */
function problemsOf(yaml: string): string[] {
  try {
    parseChecks(yaml);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map(formatProblem);
  }
}

describe('new check keys: bad input', () => {
  it.each([
  ["http", "url: \"https://hub.example.com/\", basicAuth: { username: u, password: hunter2 }", "test.yaml:1:102: checks[0].basicAuth.password: expected a secret reference: { env: NAME } or { file: /path } (secrets are never written inline)"],
  ["http", "url: \"https://hub.example.com/\", basicAuth: { password: { env: PW } }", "test.yaml:1:77: checks[0].basicAuth.username: required (expected a string or a secret reference ({ env: NAME } or { file: /path }))"],
  ["http", "url: \"https://hub.example.com/\", expect: { bodyNotMatches: \"(\" }", "test.yaml:1:92: checks[0].expect.bodyNotMatches: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ): `(`"],
  ["http", "url: \"https://hub.example.com/\", expect: { bodyMatches: [ok, \"[\"] }", "test.yaml:1:94: checks[0].expect.bodyMatches[1]: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ]: `[`"],
  ["http", "url: \"https://hub.example.com/\", expect: { headers: { Set-Cookie: { allowMissing: true } } }", "test.yaml:1:99: checks[0].expect.headers.Set-Cookie: expected matches or notMatches (or both)"],
  ["http", "url: \"https://hub.example.com/\", expect: { headers: { X: { notMatches: \"(\" } } }", "test.yaml:1:104: checks[0].expect.headers.X.notMatches: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ): `(`"],
  ["http", "url: \"https://hub.example.com/\", expect: { https: yes }", "test.yaml:1:83: checks[0].expect.https: expected true or false (got \"yes\")"],
  ["http", "url: \"https://hub.example.com/\", expect: { httpVersions: [HTTP/3] }", "test.yaml:1:91: checks[0].expect.httpVersions[0]: expected one of \"HTTP/1.0\", \"HTTP/1.1\", \"HTTP/2.0\" (got \"HTTP/3\")"],
  ["http", "url: \"https://hub.example.com/\", ipProtocol: ipv4", "test.yaml:1:78: checks[0].ipProtocol: expected one of \"ip4\", \"ip6\" (got \"ipv4\")"],
  ["tcp", "host: db, port: 5432, ipProtocol: ip5", "test.yaml:1:66: checks[0].ipProtocol: expected one of \"ip4\", \"ip6\" (got \"ip5\")"],
  ["tls", "host: db, ipProtocolFallback: maybe", "test.yaml:1:62: checks[0].ipProtocolFallback: expected true or false (got \"maybe\")"],
  ["dns", "query: hub.example.com, expect: { answerRrs: { failIfMatches: [x] } }", "test.yaml:1:77: checks[0].expect.answerRrs: record patterns need IP resolvers: the system resolver gives no records as text"],
  ["dns", "query: hub.example.com, resolvers: [\"127.0.0.1:53\"], expect: { answerRrs: { failIfMatch: [x] } }", "test.yaml:1:108: checks[0].expect.answerRrs.failIfMatch: unknown key \"failIfMatch\" (accepted: failIfMatches, failIfAllMatch, failIfNotMatches, failIfNoneMatches)"],
  ["dns", "query: hub.example.com, resolvers: [\"127.0.0.1:53\"], expect: { authorityRrs: { failIfNoneMatches: [\"(\"] } }", "test.yaml:1:131: checks[0].expect.authorityRrs.failIfNoneMatches[0]: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ): `(`"],
  ["dns", "query: example.com, record: SOA, expect: { answers: [ns.example.com.] }", "test.yaml:1:85: checks[0].expect.answers[0]: \"ns.example.com.\" is not a valid SOA answer: expected \"mname rname serial refresh retry expire minimum\", like \"ns.example.com. hostmaster.example.com. 2024010101 3600 600 86400 60\""],
  ])('%s check rejects %s', (type, fragment, problem) => {
    expect(problemsOf(`checks: [{ name: c, type: ${type}, ${fragment} }]`)).toEqual([problem]);
  });

  it('never echoes an inline basic-auth password', () => {
    expect(problemsOf('checks: [{ name: c, type: http, url: "https://hub.example.com/", basicAuth: { username: u, password: canary-pw-1 } }]').join()).not.toContain('canary-pw-1');
  });
});

describe('new check keys against real peers', () => {
  const peers = new PeerSet();
  let http: HttpPeer;
  let https: HttpsPeer;
  let knot: Knot;
  const CANARY = 'canary-basic-auth-7f3a';

  beforeAll(async () => {
    const certs = await peers.start(mintCertificates());
    const basic = `Basic ${Buffer.from(`prober:${CANARY}`).toString('base64')}`;
    const routes = {
      '/': { body: 'all good', headers: { 'x-frame-options': 'DENY' } },
      '/cookie': { body: 'all good', headers: { 'set-cookie': 'session=1' } },
      '/db': { body: 'Could not connect to database' },
      '/auth': (seen: { headers: Record<string, unknown> }) => (seen.headers.authorization === basic ? { body: 'in' } : { status: 401, body: 'who?' }),
      // Reflects the Authorization header, which a header expectation's message then quotes.
      '/echo-auth': (seen: { headers: Record<string, unknown> }) => ({ body: 'echo', headers: { 'x-echo': String(seen.headers.authorization) } }),
    };
    http = await peers.start(startHttpPeer({ host: '127.0.0.1', routes }));
    https = await peers.start(startHttpsPeer({ host: '127.0.0.1', tls: await certs.mintLeaf({ names: ['localhost'], notAfter: new Date(Date.now() + 30 * 86_400_000), file: 'lh' }), routes }));
    knot = await peers.start(startKnot({ zones: { 'rr.test': ['www 300 A 127.0.0.2', 'www 300 A 127.0.0.3'] } }));
  });

  afterAll(async () => {
    delete process.env.DW_TEST_BASIC_PASSWORD;
    await peers.closeAll();
  });

  const http1 = (extra: Record<string, unknown>, path = '/') => stringify({ checks: [{ name: 'c', type: 'http', url: http.url(path), ...extra }] });

  it('bodyNotMatches fails on a matching body, and says it was a pattern (probe_failed_due_to_regex)', async () => {
    const run = await runYaml(http1({ expect: { bodyNotMatches: ['Could not connect', 'timeout'] } }, '/db'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'body matches /Could not connect/, expected it not to (29 bytes)', observations: { failedDueToRegex: true } });
    expect(run.probeSamples().find((s) => s.name === 'probe_failed_due_to_regex')?.value).toBe(1);
    const ok = await runYaml(http1({ expect: { bodyNotMatches: 'Could not connect' } }));
    expect(ok.result).toMatchObject({ ok: true, observations: { failedDueToRegex: false } });
  });

  it('header notMatches with allowMissing passes a missing header and fails a matching one; matches needs the header', async () => {
    const noCookies = { expect: { headers: { 'Set-Cookie': { notMatches: '.*', allowMissing: true } } } };
    expect((await runYaml(http1(noCookies))).result.ok).toBe(true);
    expect((await runYaml(http1(noCookies, '/cookie'))).result).toMatchObject({ ok: false, message: 'header Set-Cookie is "session=1", expected not to match /.*/' });
    const frame = { expect: { headers: { 'X-Frame-Options': { matches: '^(DENY|SAMEORIGIN)$' } } } };
    expect((await runYaml(http1(frame))).result.ok).toBe(true);
    expect((await runYaml(http1(frame, '/db'))).result).toMatchObject({ ok: false, message: 'header X-Frame-Options is missing, expected to match /^(DENY|SAMEORIGIN)$/' });
  });

  it('https: true fails plain http, https: false fails https; httpVersions names the version seen', async () => {
    expect((await runYaml(http1({ expect: { https: true } }))).result).toMatchObject({ ok: false, message: `final response came over plain http (${http.url('/')}), expected https` });
    const tlsYaml = stringify({ checks: [{ name: 'c', type: 'http', url: `https://localhost:${https.port}/`, insecureSkipVerify: true, expect: { https: false } }] });
    expect((await runYaml(tlsYaml)).result).toMatchObject({ ok: false, message: `final response came over https (https://localhost:${https.port}/), expected plain http` });
    expect((await runYaml(http1({ expect: { httpVersions: ['HTTP/1.0'] } }))).result).toMatchObject({ ok: false, message: 'response is HTTP/1.1, expected HTTP/1.0' });
    expect((await runYaml(http1({ expect: { httpVersions: ['HTTP/1.1', 'HTTP/2.0'] } }))).result.ok).toBe(true);
  });

  it('basicAuth sends the password from its secret, and the password appears nowhere else', async () => {
    process.env.DW_TEST_BASIC_PASSWORD = CANARY;
    const { log, lines } = memoryLogger();
    const run = await runYaml(http1({ basicAuth: { username: 'prober', password: { env: 'DW_TEST_BASIC_PASSWORD' } }, expect: { status: [200] } }, '/auth'), { log });
    expect(run.result).toMatchObject({ ok: true, observations: { status: 200 } });
    process.env.DW_TEST_BASIC_PASSWORD = 'wrong';
    const denied = await runYaml(http1({ basicAuth: { username: 'prober', password: { env: 'DW_TEST_BASIC_PASSWORD' } } }, '/auth'), { log });
    expect(denied.result).toMatchObject({ ok: false, reason: 'status', message: 'status 401, expected 2xx' });
    process.env.DW_TEST_BASIC_PASSWORD = CANARY;
    const echoed = await runYaml(http1({ basicAuth: { username: 'prober', password: { env: 'DW_TEST_BASIC_PASSWORD' } }, expect: { headers: { 'x-echo': 'nothing' } } }, '/echo-auth'), { log });
    expect(echoed.result).toMatchObject({ ok: false, reason: 'assertion', message: 'header x-echo is "[secret]", expected "nothing"' });
    const everything = JSON.stringify([run.result, denied.result, echoed.result, run.probeSamples()]) + lines();
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain(Buffer.from(`prober:${CANARY}`).toString('base64'));
  });

  it('ipProtocol picks the family; without fallback a name lacking it fails as DNS', async () => {
    const viaName = (extra: Record<string, unknown>) => stringify({ checks: [{ name: 'c', type: 'http', url: `http://localhost:${http.port}/`, ...extra }] });
    // localhost has only 127.0.0.1 here.
    expect((await runYaml(viaName({ ipProtocol: 'ip6', ipProtocolFallback: false }))).result).toMatchObject({ ok: false, reason: 'dns', message: expect.stringContaining('no IPv6 address for localhost (ipProtocolFallback: false)') as unknown });
    expect((await runYaml(viaName({ ipProtocol: 'ip6' }))).result).toMatchObject({ ok: true, observations: { address: '127.0.0.1' } });
    const tcp = (extra: Record<string, unknown>) => stringify({ checks: [{ name: 'c', type: 'tcp', host: 'localhost', port: http.port, ...extra }] });
    expect((await runYaml(tcp({ ipProtocol: 'ip6', ipProtocolFallback: false }))).result).toMatchObject({ ok: false, reason: 'dns' });
    const ok = await runYaml(tcp({ ipProtocol: 'ip4' }));
    expect(ok.result).toMatchObject({ ok: true, observations: { address: '127.0.0.1' } });
    expect(ok.probeSamples().find((s) => s.name === 'probe_ip_protocol')?.value).toBe(4);
  });

  it('record patterns read whole records as blackbox prints them; SOA answers and serial', async () => {
    const dns = (extra: Record<string, unknown>) => stringify({ checks: [{ name: 'c', type: 'dns', query: 'www.rr.test', resolvers: [knot.address], ...extra }] });
    const stale = await runYaml(dns({ expect: { answerRrs: { failIfMatches: ['127\\.0\\.0\\.3$'] } } }));
    expect(stale.result).toMatchObject({ ok: false, reason: 'assertion' });
    expect(stale.result.message).toBe(`resolver ${knot.address} answered 127.0.0.2 and 127.0.0.3, expected no answer record to match /127\\.0\\.0\\.3$/ ("www.rr.test.\\t300\\tIN\\tA\\t127.0.0.3" does)`);
    expect((await runYaml(dns({ expect: { answerRrs: { failIfNoneMatches: ['^www\\.rr\\.test\\.\\t300\\tIN\\tA\\t'], failIfNotMatches: ['\\tA\\t'] } } }))).result.ok).toBe(true);
    expect((await runYaml(dns({ expect: { answerRrs: { failIfAllMatch: ['127\\.0\\.0\\.'] } } }))).result).toMatchObject({ ok: false, message: expect.stringContaining('some answer record not to match /127\\.0\\.0\\./ (all 2 do)') as unknown });
    const soa = await runYaml(stringify({ checks: [{ name: 'c', type: 'dns', query: 'rr.test', record: 'SOA', resolvers: [knot.address], expect: { answers: ['NS.rr.test hostmaster.rr.test. 1 3600 600 86400 60'] } }] }));
    expect(soa.result).toMatchObject({ ok: true });
    expect(soa.probeSamples().find((s) => s.name === 'probe_dns_serial')?.value).toBe(1);
  });
});
