import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { FrameWatch, WIRE_LIMITS, type WireLimits } from '../src/net/postgres-frames.js';
import { runYaml } from './support/checks.js';
import { collect, startCli, waitForLog, type CliResult } from './support/cli.js';
import { PeerSet } from './support/peers.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { header, int16, int32, message, startHostilePostgres, type HostileMode, type HostilePostgres } from './peers/hostile-postgres.js';
import { startPostgres, type PostgresPeer } from './peers/postgres.js';

/**
 * A PostgreSQL server that breaks the protocol fails its own run and nothing else. Against pg's
 * parser alone, an unknown or short AuthenticationRequest threw inside a socket listener and ended
 * the daemon, a declared 2 GB message or 10M rows were buffered until V8 aborted, and a 1 MB
 * ErrorResponse came back whole. The real daemon (`serve`, the built CLI) runs a postgres check
 * against each attack of a hostile peer, plain and over TLS (verify-full), while this test polls
 * /metrics and reads the daemon's RSS the whole time.
 */
const PASSWORD = 'hostile-pg-canary-7f3e91';
/** The daemon idles near 110 MB; an unbounded parser passed 800 MB within a second of an attack. */
const RSS_CEILING_KB = 400 * 1024;
const METRICS_WITHIN_MS = 200;
/** Bytes the peer may have pushed before the client hung up (kernel socket buffers included). */
const SENT_CEILING = 64 * 1024 * 1024;

const LOGIN = String.raw`^login as "driftwatch" to database "[a-z0-9-]+" at 127\.0\.0\.1:\d+ failed: `;
const ATTACKS: { mode: HostileMode; reason: 'connect' | 'error'; message: RegExp }[] = [
  { mode: 'auth-unknown', reason: 'connect', message: new RegExp(`${LOGIN}server sent an authentication request of unknown type 99$`) },
  { mode: 'auth-short', reason: 'connect', message: new RegExp(`${LOGIN}server sent an authentication request too short to hold its type \\(declared length 4, at least 8\\)$`) },
  { mode: 'error-endless', reason: 'connect', message: new RegExp(`${LOGIN}server declared a 2 GiB ErrorResponse message \\(limit 1 MiB\\)$`) },
  { mode: 'huge-parameter', reason: 'connect', message: new RegExp(`${LOGIN}server declared a 2 GiB ParameterStatus message \\(limit 1 MiB\\)$`) },
  { mode: 'rows', reason: 'error', message: /^status query failed: server sent more than 10,000 rows \(limit 10,000 per session\)$/ },
  { mode: 'big-field', reason: 'error', message: /^status query failed: server declared a 100 MiB DataRow message \(limit 1 MiB\)$/ },
  { mode: 'notice-flood', reason: 'error', message: /^status query failed: server sent more than 8 MiB in one session \(limit 8 MiB\)$/ },
  // The ErrorResponse's text, cut to 500 characters where it arrives, then its SQLSTATE.
  { mode: 'error-1mb', reason: 'connect', message: new RegExp(`${LOGIN}hostile: A{400,500}\\.\\.\\. \\(1,000,009 characters in all\\) \\(XX000\\)$`) },
];

const resultJson = z.object({ name: z.string(), ok: z.boolean(), reason: z.string().optional(), message: z.string(), durationMs: z.number() });

describe('postgres checks against a hostile server, in the running daemon', { timeout: 50_000 }, () => {
  const peers = new PeerSet();
  let plain: HostilePostgres;
  let secure: HostilePostgres;
  let certs: Certificates;
  let dir: string;
  let daemon: ChildProcess;
  let exited: Promise<CliResult>;
  let base: string;

  beforeAll(async () => {
    certs = await mintCertificates();
    plain = await peers.start(startHostilePostgres());
    secure = await peers.start(startHostilePostgres({ tls: { cert: certs.leaf.cert, key: certs.leaf.key } }));
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-pg-hostile-'));
    const check = (name: string, mode: HostileMode, port: number, tls: Record<string, string>) => ({
      name, type: 'postgres', host: '127.0.0.1', port, database: mode, user: 'driftwatch', password: { env: 'DW_HOSTILE_PG' },
      schedule: '0 0 1 1 *', timeout: '10s', connectTimeout: '30s', ...tls,
    });
    const checks = [{ mode: 'benign' as const }, ...ATTACKS].flatMap(({ mode }) => [
      check(`pg-${mode}`, mode, plain.port, { sslmode: 'disable' }),
      check(`pg-tls-${mode}`, mode, secure.port, { sslmode: 'verify-full', ca: certs.caPath, serverName: certs.hostname }),
    ]);
    const file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ checks }));
    daemon = startCli(['serve', '--checks', file, '--listen', '127.0.0.1:0'], { DW_HOSTILE_PG: PASSWORD });
    exited = collect(daemon, 120_000);
    const serving = await waitForLog(daemon, 'driftwatch serving', 30_000);
    base = `http://${String(serving.address)}`;
  });

  afterAll(async () => {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    await exited.catch(() => undefined);
    await peers.closeAll();
    await certs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes against the peer answering as a well-behaved primary, plain and over TLS (and so has run pg\'s query path once)', async () => {
    for (const name of ['pg-benign', 'pg-tls-benign']) {
      const ran = resultJson.parse(await (await fetch(`${base}/probe?check=${name}`)).json());
      expect(ran).toMatchObject({ name, ok: true, message: 'ok' });
    }
  });

  it.each(ATTACKS.flatMap((attack) => [{ ...attack, tls: false }, { ...attack, tls: true }]))('$mode (tls $tls): the run fails with its own reason, the daemon keeps answering and stays small', async ({ mode, reason, message, tls }) => {
    const name = `pg-${tls ? 'tls-' : ''}${mode}`;
    let running = true;
    const probe = fetch(`${base}/probe?check=${name}`, { signal: AbortSignal.timeout(20_000) })
      .then(async (res) => resultJson.parse(await res.json()))
      .finally(() => {
        running = false;
      });
    const [ran, watched] = await Promise.all([probe, watch(base, daemon.pid ?? 0, () => running)]);

    // Soft: every broken bound is reported, not only the first.
    expect.soft(watched.problems).toEqual([]);
    expect.soft(watched.slowestMetricsMs, `/metrics took ${Math.round(watched.slowestMetricsMs)} ms at worst over ${watched.polls} polls`).toBeLessThan(METRICS_WITHIN_MS);
    expect.soft(watched.peakRssKb, `daemon peak RSS ${Math.round(watched.peakRssKb / 1024)} MB`).toBeLessThan(RSS_CEILING_KB);
    expect.soft((tls ? secure : plain).sent.get(mode) ?? 0, 'bytes the peer sent before the daemon hung up').toBeLessThan(SENT_CEILING);
    expect(ran).toMatchObject({ name, ok: false, reason });
    expect(ran.message).toMatch(message);
    // Ended by the guard, not by the run's 10 s timeout.
    expect(ran.durationMs).toBeLessThan(3000);
  });

  it('is still up after every attack, and never printed the password', async () => {
    expect(daemon.exitCode).toBeNull();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const { mode } of ATTACKS) expect(metrics).toMatch(new RegExp(`driftwatch_check_runs_total\\{check="pg-tls-${mode}",type="postgres",result="failure"\\} 1`));
    daemon.kill('SIGTERM');
    const { code, stdout, stderr } = await exited;
    expect(code).toBe(0);
    expect(`${stdout}${stderr}`).not.toContain(PASSWORD);
  });
});

describe('the same bounds against a real PostgreSQL 15', () => {
  let real: PostgresPeer;
  beforeAll(async () => {
    real = await startPostgres();
    process.env.DW_REAL_PG = real.password;
  });
  afterAll(async () => {
    await real.close();
  });
  const run = async (query: string) => {
    const yaml = stringify({ checks: [{ name: 'db', type: 'postgres', host: real.host, port: real.port, database: real.database, user: real.user, password: { env: 'DW_REAL_PG' }, sslmode: 'verify-full', ca: real.caPath, query }] });
    return (await runYaml(yaml)).result;
  };

  it('reads at most 10,000 rows and 1 MiB per message, says what the server sent, and closes the session', async () => {
    expect(await run('SELECT generate_series(1, 20000)')).toMatchObject({ ok: false, reason: 'error', message: 'query failed: server sent more than 10,000 rows (limit 10,000 per session)' });
    expect(await run("SELECT repeat('x', 2000000)")).toMatchObject({ ok: false, reason: 'error', message: 'query failed: server declared a 1.9 MiB DataRow message (limit 1 MiB)' });
    const open = "SELECT count(*) AS open FROM pg_stat_activity WHERE application_name = 'driftwatch'";
    await expect.poll(() => real.query(open), { timeout: 3000, interval: 100 }).toEqual([{ open: '0' }]);
  });

  it('cuts a long error text from the server to 500 characters, saying how long it was', async () => {
    // PostgreSQL quotes the whole value it could not read: a 100,000-character error message.
    const result = await run("SELECT repeat('x', 100000)::int");
    expect(result).toMatchObject({ ok: false, reason: 'assertion' });
    expect(result.message).toMatch(/^query failed: invalid input syntax for type integer: "x{400,}\.\.\. \(100,0\d\d characters in all\) \(22P02\)$/);
  });
});

describe('the framing guard, chunk by chunk', () => {
  /** What a real scram-sha-256 login and a one-row query look like from the server's side. */
  const session = Buffer.concat([
    message('R', Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256\0\0')])),
    message('R', Buffer.concat([int32(11), Buffer.from('r=abc,s=c2FsdA==,i=4096')])),
    message('R', Buffer.concat([int32(12), Buffer.from('v=c2lnbmF0dXJl')])),
    message('R', int32(0)),
    message('S', Buffer.from('server_version\x0015.8\0')),
    message('K', Buffer.concat([int32(7), int32(9)])),
    message('Z', Buffer.from('I')),
    message('D', Buffer.concat([int16(1), int32(1), Buffer.from('1')])),
    message('C', Buffer.from('SELECT 1\0')),
  ]);
  const feed = (bytes: Buffer, sizes: number[], limits: WireLimits = WIRE_LIMITS) => {
    const frames = new FrameWatch(limits);
    let at = 0;
    for (const size of [...sizes, bytes.length]) {
      const violation = frames.inspect(bytes.subarray(at, Math.min(bytes.length, at + size)));
      if (violation) return violation.message;
      at += size;
      if (at >= bytes.length) break;
    }
    return undefined;
  };

  it('passes a real login and query split at every byte boundary, and byte by byte', () => {
    for (let split = 1; split < session.length; split++) expect(feed(session, [split])).toBeUndefined();
    expect(feed(session, Array.from({ length: session.length }, () => 1))).toBeUndefined();
  });

  it.each([
    ['an unknown auth type after AuthenticationOk', Buffer.concat([message('R', int32(0)), message('R', int32(99))]), 'server sent an authentication request of unknown type 99'],
    ['GSSAPI', message('R', int32(7)), 'server asked for GSSAPI authentication (type 7), which the check does not support'],
    ['MD5 with a wrong length', message('R', Buffer.concat([int32(5), Buffer.from('salt!')])), 'server sent an authentication request of type 5 with length 13, expected 12'],
    ['a length shorter than itself', header('Z', 2), 'server sent a ReadyForQuery message declaring 2 bytes, fewer than its own length field'],
    ['a 4 GiB declared length', header('x', 0xffffffff), "server declared a 4 GiB 'x' message (limit 1 MiB)"],
  ])('refuses %s', (_what, bytes, expected) => {
    expect(feed(bytes, Array.from({ length: bytes.length }, () => 1))).toBe(expected);
  });

  it('counts rows and bytes over the whole session', () => {
    const row = message('D', Buffer.concat([int16(1), int32(-1)]));
    const rows = Buffer.concat([row, row, row]);
    expect(feed(rows, [row.length * 2], { ...WIRE_LIMITS, maxRows: 2 })).toBe('server sent more than 2 rows (limit 2 per session)');
    expect(feed(rows, [7, 7], { ...WIRE_LIMITS, maxTotalBytes: 20 })).toBe('server sent more than 20 bytes in one session (limit 20 bytes)');
  });
});

interface Watched {
  polls: number;
  slowestMetricsMs: number;
  peakRssKb: number;
  problems: string[];
}

const execFileAsync = promisify(execFile);

/**
 * Polls /metrics back to back while the attack runs (at least 3 times, at most 500), and reads
 * the daemon's RSS after each poll and its high-water mark (VmHWM) at the end, so a peak between
 * two polls counts too. curl times each answer in its own process: this process also runs the
 * hostile peer, whose work must not count as the daemon's delay.
 */
async function watch(base: string, pid: number, running: () => boolean): Promise<Watched> {
  const watched: Watched = { polls: 0, slowestMetricsMs: 0, peakRssKb: 0, problems: [] };
  while ((running() || watched.polls < 3) && watched.polls < 500) {
    try {
      const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '--max-time', '5', '-w', '%{http_code} %{time_total}', `${base}/metrics`]);
      const [status, seconds] = stdout.split(' ');
      if (status !== '200') watched.problems.push(`/metrics answered ${status ?? stdout}`);
      watched.slowestMetricsMs = Math.max(watched.slowestMetricsMs, Number(seconds) * 1000);
    } catch (err) {
      watched.problems.push(`/metrics: ${String(err)}`);
      break;
    }
    watched.peakRssKb = Math.max(watched.peakRssKb, await memoryKb(pid, 'VmRSS'));
    watched.polls++;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  watched.peakRssKb = Math.max(watched.peakRssKb, await memoryKb(pid, 'VmHWM'));
  return watched;
}

/** A line of /proc/PID/status in kB; a process that is gone reads as over any ceiling. */
async function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  return kb === undefined ? Number.POSITIVE_INFINITY : Number(kb);
}
