import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { startPostgres, type PostgresPeer } from './peers/postgres.js';

let primary: PostgresPeer;
let standby: PostgresPeer;
let restartable: PostgresPeer;
let silent: Server | undefined;
let silentPort: number;
const opened: PostgresPeer[] = [];
const silentSockets = new Set<Socket>();
let dir: string;

const ENV = { primary: 'DW_TEST_PG_PRIMARY', standby: 'DW_TEST_PG_STANDBY', restartable: 'DW_TEST_PG_RESTARTABLE', wrong: 'DW_TEST_PG_WRONG' };
const WRONG_PASSWORD = 'canary-wrong-5e1d7c0a9b';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-pg-test-'));
  // allSettled: when one fails to start, the others still get closed in afterAll.
  const started = await Promise.allSettled([startPostgres(), startPostgres({ standby: true }), startPostgres()]);
  for (const peer of started) if (peer.status === 'fulfilled') opened.push(peer.value);
  for (const peer of started) if (peer.status === 'rejected') throw peer.reason;
  [primary, standby, restartable] = [opened[0]!, opened[1]!, opened[2]!];
  process.env[ENV.primary] = primary.password;
  process.env[ENV.standby] = standby.password;
  process.env[ENV.restartable] = restartable.password;
  process.env[ENV.wrong] = WRONG_PASSWORD;
  await primary.query('CREATE TABLE hubs (id int PRIMARY KEY, name text)');
  await primary.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  // Accepts TCP and never says a word: a hung database or a black-holing proxy.
  const server = createServer((socket) => {
    silentSockets.add(socket);
    socket.resume(); // a paused socket never sees the peer's FIN, so it would never close
    socket.on('close', () => silentSockets.delete(socket));
  });
  silent = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  silentPort = address !== null && typeof address === 'object' ? address.port : 0;
});

afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  const server = silent;
  if (server) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  await Promise.all(opened.map((peer) => peer.close()));
  await rm(dir, { recursive: true, force: true });
});

/** A check file with one postgres check against the peer, verify-full with its CA unless overridden. */
function checkYaml(peer: PostgresPeer, env: string, extra: Record<string, unknown> = {}): string {
  const check: Record<string, unknown> = { name: 'db', type: 'postgres', host: peer.host, port: peer.port, database: peer.database, user: peer.user, password: { env }, sslmode: 'verify-full', ca: peer.caPath, timeout: '10s', ...extra };
  // An `undefined` in extra removes that key.
  return stringify({ checks: [Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined))] });
}

const APP_TABLES = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('hubs', 'widgets')";

describe('postgres check against a real PostgreSQL 15 (scram-sha-256 over TLS)', () => {
  it('passes against the primary and reports connect/query time, version, TLS and primary', async () => {
    const { result, samples } = await runYaml(checkYaml(primary, ENV.primary, { expect: { primary: true } }));
    expect(result).toMatchObject({ ok: true, type: 'postgres', message: 'ok' });
    expect(result.observations).toMatchObject({ address: '127.0.0.1', tls: true, primary: true });
    expect(result.observations.serverVersion).toMatch(/^15\.\d+/);
    expect(result.observations.tlsProtocol).toMatch(/^TLSv1\.[23]$/);
    for (const key of ['tcpMs', 'tlsMs', 'connectMs', 'queryMs']) expect(result.observations[key]).toBeGreaterThan(0);
    expect(result.observations).not.toHaveProperty('replicationLagSeconds');
    expect(result.steps?.map((s) => s.step)).toEqual(['tcp connected', 'tls established', 'authenticated', 'status']);
    expect(samples).toEqual([{ name: 'driftwatch_postgres_primary', value: 1 }]);
  });

  it('fails with assertion when the endpoint reaches a replica and expect.primary is true', async () => {
    const { result, samples } = await runYaml(checkYaml(standby, ENV.standby, { expect: { primary: true } }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'reached a replica (pg_is_in_recovery() = true), expected the primary' });
    expect(result.observations).toMatchObject({ primary: false, replicationLagSeconds: null });
    expect(samples).toEqual([{ name: 'driftwatch_postgres_primary', value: 0 }]);
  });

  it('checks a replica endpoint with expect.primary false', async () => {
    expect((await runYaml(checkYaml(standby, ENV.standby, { expect: { primary: false } }))).result.ok).toBe(true);
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { expect: { primary: false } }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'reached the primary (pg_is_in_recovery() = false), expected a replica' });
  });

  it('fails with auth on a wrong password (28P01)', async () => {
    const { result, samples } = await runYaml(checkYaml(primary, ENV.wrong));
    expect(result).toMatchObject({ ok: false, reason: 'auth' });
    expect(result.message).toBe(`login as "${primary.user}" to database "postgres" at 127.0.0.1:${primary.port} failed: password authentication failed for user "${primary.user}" (28P01)`);
    expect(samples).toEqual([]);
  });

  it('fails with auth when TLS is off against a hostssl-only server (28000)', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { sslmode: 'disable', ca: undefined }));
    expect(result).toMatchObject({ ok: false, reason: 'auth', observations: { tls: false } });
    expect(result.message).toContain('no pg_hba.conf entry');
    expect(result.message).toContain('(28000)');
  });

  it('sslmode require encrypts without verifying; verify-ca verifies the chain only', async () => {
    const required = await runYaml(checkYaml(primary, ENV.primary, { sslmode: 'require', ca: undefined }));
    expect(required.result).toMatchObject({ ok: true, observations: { tls: true } });
    const verified = await runYaml(checkYaml(primary, ENV.primary, { sslmode: 'verify-ca' }));
    expect(verified.result.ok).toBe(true);
  });

  it('fails with tls under verify-full without the CA (system CAs only)', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { ca: undefined }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(/^TLS with 127\.0\.0\.1:\d+ failed \(sslmode verify-full, ca system CAs\): .*\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
  });

  it('fails with tls when the CA is not the one that signed the server certificate', async () => {
    for (const sslmode of ['verify-ca', 'verify-full']) {
      const { result } = await runYaml(checkYaml(primary, ENV.primary, { sslmode, ca: primary.otherCaPath }));
      expect(result).toMatchObject({ ok: false, reason: 'tls' });
      expect(result.message).toContain(`ca ${primary.otherCaPath}`);
    }
  });

  it('verifies serverName when dialling by IP under verify-full', async () => {
    expect((await runYaml(checkYaml(primary, ENV.primary, { serverName: 'localhost' }))).result.ok).toBe(true);
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { serverName: 'db-rw.wrong.example' }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toContain("Host: db-rw.wrong.example. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost");
    expect(result.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('times out within connectTimeout on a server that accepts TCP and never answers, and closes the socket', async () => {
    const fake = { ...primary, port: silentPort };
    const { result } = await runYaml(checkYaml(fake, ENV.primary, { connectTimeout: '1s' }));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.message).toBe(`no answer from 127.0.0.1:${silentPort} within connectTimeout 1s (stuck in TLS negotiation: the server accepted TCP but did not answer)`);
    expect(result.durationMs).toBeLessThan(5000);
    await vi.waitFor(() => {
      expect(silentSockets.size).toBe(0);
    }, { timeout: 2000 });
  });

  it('is cut off by the run timeout, which destroys the connection', async () => {
    const fake = { ...primary, port: silentPort };
    const { result } = await runYaml(checkYaml(fake, ENV.primary, { sslmode: 'disable', ca: undefined, timeout: '1s', connectTimeout: '30s' }));
    expect(result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 1s' });
    expect(result.durationMs).toBeLessThan(5000);
    await vi.waitFor(() => {
      expect(silentSockets.size).toBe(0);
    }, { timeout: 2000 });
  });

  it('cuts off a slow query at the run timeout, and the server stops running it', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { timeout: '1s', query: 'SELECT pg_sleep(30)' }));
    expect(result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 1s' });
    await vi.waitFor(
      async () => {
        expect(await primary.query("SELECT count(*) AS running FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")).toEqual([{ running: '0' }]);
      },
      { timeout: 5000, interval: 200 },
    );
  });

  it('fails with connect while the server is down and recovers on the next run', async () => {
    const yaml = checkYaml(restartable, ENV.restartable, { expect: { primary: true } });
    expect((await runYaml(yaml)).result.ok).toBe(true);
    await restartable.stop();
    const down = await runYaml(yaml);
    expect(down.result).toMatchObject({ ok: false, reason: 'connect' });
    expect(down.result.message).toBe(`connecting to 127.0.0.1:${restartable.port} failed: connect ECONNREFUSED 127.0.0.1:${restartable.port}`);
    expect(down.samples).toEqual([]);
    await restartable.start();
    const up = await runYaml(yaml);
    expect(up.result).toMatchObject({ ok: true, observations: { primary: true } });
    expect(up.samples).toEqual([{ name: 'driftwatch_postgres_primary', value: 1 }]);
  });

  it('leaves no session open on the server after passing and failing runs', async () => {
    await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT 1', expect: { result: '2' } }));
    await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT * FROM missing' }));
    await vi.waitFor(
      async () => {
        expect(await primary.query("SELECT count(*) AS open FROM pg_stat_activity WHERE application_name = 'driftwatch'")).toEqual([{ open: '0' }]);
      },
      { timeout: 3000, interval: 100 },
    );
  });
});

describe('postgres custom read-only query', () => {
  it('passes when the first column of the first row equals expect.result', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { query: APP_TABLES, expect: { primary: true, result: '2' } }));
    expect(result).toMatchObject({ ok: true, observations: { query: { rows: 1, first: '2' } } });
    expect(result.steps?.map((s) => s.step)).toContain('query');
  });

  it('fails with expected vs actual when the result differs', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { query: APP_TABLES, expect: { result: '3' } }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'query returned "2", expected "3"' });
    const empty = await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT id FROM hubs', expect: { result: '1' } }));
    expect(empty.result).toMatchObject({ ok: false, reason: 'assertion', message: 'query returned no rows, expected "1"' });
  });

  it('compares values as PostgreSQL prints them (text), including NULL', async () => {
    expect((await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT true, 1', expect: { result: 't' } }))).result.ok).toBe(true);
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT NULL::text', expect: { result: 'x' } }));
    expect(result.message).toBe('query returned NULL, expected "x"');
  });

  it('checks expect.minRows', async () => {
    const tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'";
    expect((await runYaml(checkYaml(primary, ENV.primary, { query: tables, expect: { minRows: 2 } }))).result.ok).toBe(true);
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { query: tables, expect: { minRows: 5 } }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'query returned 2 rows, expected at least 5' });
  });

  it('reports a failing query (a missing table) as assertion with its SQLSTATE', async () => {
    const { result } = await runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT count(*) FROM hub_sessions' }));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', message: 'query failed: relation "hub_sessions" does not exist (42P01)' });
  });

  it('joins every failed expectation into one message', async () => {
    const { result } = await runYaml(checkYaml(standby, ENV.standby, { query: 'SELECT 1', expect: { primary: true, result: '2' } }));
    expect(result.message).toBe('reached a replica (pg_is_in_recovery() = true), expected the primary; query returned "1", expected "2"');
  });

  it('cannot write: a write or a second statement is refused and changes nothing', async () => {
    const write = await runYaml(checkYaml(primary, ENV.primary, { query: "INSERT INTO hubs VALUES (1, 'x')" }));
    expect(write.result).toMatchObject({ ok: false, reason: 'config' });
    expect(write.result.message).toBe('query is not a single read-only statement: cannot execute INSERT in a read-only transaction (25006)');
    const escape = await runYaml(checkYaml(primary, ENV.primary, { query: 'COMMIT; DROP TABLE widgets' }));
    expect(escape.result).toMatchObject({ ok: false, reason: 'config' });
    expect(escape.result.message).toContain('(42601)');
    expect(await primary.query(APP_TABLES.replace('count(*)', 'count(*) AS n'))).toEqual([{ n: '2' }]);
    expect(await primary.query('SELECT count(*) AS n FROM hubs')).toEqual([{ n: '0' }]);
  });
});

describe('postgres secrets', () => {
  it('never shows the password in logs, results, debug steps, messages or samples', async () => {
    const passwordFile = join(dir, 'db-password');
    await writeFile(passwordFile, `${primary.password}\n`);
    const fake = { ...primary, port: silentPort };
    const { log, lines } = memoryLogger();
    const runs = await Promise.all([
      runYaml(checkYaml(primary, ENV.primary, { query: APP_TABLES, expect: { primary: true, result: '2' } }), { log }),
      runYaml(checkYaml(primary, ENV.primary, { password: { file: passwordFile }, query: 'SELECT 1', expect: { result: '0' } }), { log }),
      runYaml(checkYaml(primary, ENV.wrong), { log }),
      runYaml(checkYaml(primary, ENV.primary, { ca: primary.otherCaPath }), { log }),
      runYaml(checkYaml(standby, ENV.standby, { expect: { primary: true } }), { log }),
      runYaml(checkYaml(primary, ENV.primary, { query: 'SELECT * FROM nowhere' }), { log }),
      runYaml(checkYaml(fake, ENV.primary, { connectTimeout: '500ms' }), { log }),
    ]);
    expect(runs.map((r) => r.result.reason)).toEqual([undefined, 'assertion', 'auth', 'tls', 'assertion', 'assertion', 'timeout']);
    const outputs = [lines(), ...runs.flatMap((r) => [JSON.stringify(r.result), JSON.stringify(r.samples), JSON.stringify(r.probeSamples())])];
    for (const output of outputs) {
      for (const canary of [primary.password, standby.password, WRONG_PASSWORD]) expect(output).not.toContain(canary);
    }
    // The runner scrubs revealed values to [secret]; none here means the check never put one in.
    for (const run of runs) expect(JSON.stringify(run.result)).not.toContain('[secret]');
  });

  it('prints the password reference as [secret] in the parsed spec', () => {
    const [loaded] = parseChecks(checkYaml(primary, ENV.primary));
    expect(JSON.stringify(loaded?.spec)).toContain('"password":"[secret]"');
  });
});

describe('postgres check file validation', () => {
  const base = 'checks:\n  - name: db\n    type: postgres\n    host: db.example\n    database: app\n    user: app\n';

  it('fills defaults: port 5432, sslmode verify-full, connectTimeout 5s', () => {
    const [loaded] = parseChecks(`${base}    password: { env: DB_PW }\n`);
    expect(loaded?.spec).toMatchObject({ port: 5432, sslmode: 'verify-full', connectTimeout: 5000, expect: {} });
  });

  it.each([
    ['an inline password', '    password: hunter2\n', 'test.yaml:7:15: checks[0].password:'],
    ['an unknown sslmode', '    password: { env: DB_PW }\n    sslmode: prefer\n', 'test.yaml:8:14: checks[0].sslmode: expected one of "disable", "require", "verify-ca", "verify-full" (got "prefer")'],
    ['a ca without verification', '    password: { env: DB_PW }\n    sslmode: require\n    ca: /etc/ca.pem\n', 'test.yaml:9:9: checks[0].ca: ca is only used with sslmode verify-ca or verify-full (sslmode is require)'],
    ['serverName without verify-full', '    password: { env: DB_PW }\n    sslmode: verify-ca\n    serverName: db\n', 'test.yaml:9:17: checks[0].serverName: serverName is only used with sslmode verify-full (sslmode is verify-ca)'],
    ['expect.result without a query', '    password: { env: DB_PW }\n    expect: { result: "2" }\n', 'test.yaml:8:23: checks[0].expect.result: expect.result needs a query to compare with'],
    ['a misspelt key', '    password: { env: DB_PW }\n    sslMode: disable\n', 'test.yaml:8:5: checks[0].sslMode: unknown key "sslMode"'],
    ['a missing password', '', 'test.yaml:2:5: checks[0].password: required (expected a secret reference: { env: NAME } or { file: /path } (secrets are never written inline))'],
  ])('rejects %s', (_what, extra, problem) => {
    let error: unknown;
    try {
      parseChecks(`${base}${extra}`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = error instanceof ConfigError ? error.problems.map(formatProblem) : [];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });
});
