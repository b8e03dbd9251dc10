import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import pg from 'pg';
import { z } from 'zod';
import { classifyError, errorCode } from '../results/classify.js';
import { baseFields } from '../config/base.js';
import { duration, formatDuration } from '../config/duration.js';
import { secretRef } from '../config/secret.js';
import { PostgresProtocolViolation } from '../net/postgres-frames.js';
import { guardConnection, shortenServerText } from '../net/postgres-guard.js';
import { postgresTlsOptions, SSL_MODES } from '../net/postgres-tls.js';
import type { Failure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';

export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('postgres'),
    host: z.string().min(1).meta({ description: 'host name or IP address; a CloudNativePG <cluster>-rw service reaches the primary' }),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1),
    user: z.string().min(1),
    password: secretRef,
    sslmode: z.enum(SSL_MODES).default('verify-full').meta({
      description: 'disable: no TLS; require: TLS without verification; verify-ca: the chain must lead to ca; verify-full: and the certificate must name the host (or serverName)',
    }),
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust under verify-ca / verify-full (default: the system CAs)' }),
    serverName: z.string().min(1).optional().meta({ description: 'name the certificate must carry under verify-full, when host is an IP address' }),
    connectTimeout: duration.default(5000).meta({ description: 'limit for TCP connect, TLS and authentication (default 5s)' }),
    query: z.string().min(1).optional().meta({ description: 'SQL run inside a READ ONLY transaction (one statement); see expect.result and expect.minRows. At most 10,000 rows, 1 MiB per row and 8 MiB per session are read: more fails the run' }),
    expect: z
      .strictObject({
        primary: z.boolean().optional().meta({ description: 'true: must reach the primary (pg_is_in_recovery() = false); false: must reach a replica' }),
        result: z.string().optional().meta({ description: "the query's first column of its first row, as PostgreSQL prints it (text)" }),
        minRows: z.number().int().min(0).optional().meta({ description: 'the query returns at least this many rows' }),
      })
      .default({}),
  })
  .superRefine((spec, ctx) => {
    const verifies = spec.sslmode === 'verify-ca' || spec.sslmode === 'verify-full';
    if (spec.ca !== undefined && !verifies) {
      ctx.addIssue({ code: 'custom', path: ['ca'], message: `ca is only used with sslmode verify-ca or verify-full (sslmode is ${spec.sslmode})` });
    }
    if (spec.serverName !== undefined && spec.sslmode !== 'verify-full') {
      ctx.addIssue({ code: 'custom', path: ['serverName'], message: `serverName is only used with sslmode verify-full (sslmode is ${spec.sslmode})` });
    }
    for (const key of ['result', 'minRows'] as const) {
      if (spec.expect[key] !== undefined && spec.query === undefined) {
        ctx.addIssue({ code: 'custom', path: ['expect', key], message: `expect.${key} needs a query to compare with` });
      }
    }
  });
export type PostgresSpec = z.infer<typeof schema>;

export interface PostgresObservations {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: PostgresSpec['sslmode'];
  /** The IP address the TCP connection reached. */
  address?: string;
  tcpMs?: number;
  tlsMs?: number;
  /** TCP connect, TLS and authentication: until the session accepted queries. */
  connectMs?: number;
  tls?: boolean;
  tlsProtocol?: string;
  serverVersion?: string;
  primary?: boolean;
  /** On a replica: seconds since the last replayed transaction; null before it replayed any. */
  replicationLagSeconds?: number | null;
  queryMs?: number;
  /** What the custom query returned: row count and the first column of the first row (cut at 200 characters). */
  query?: { rows: number; first: string | null; ms: number };
}

type Phase = 'tcp' | 'tls' | 'auth';

const STATUS_SQL = `SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag_seconds`;
const statusRow = z.object({ version: z.string(), in_recovery: z.boolean(), lag_seconds: z.number().nullable() });
const textRows = z.array(z.array(z.string().nullable()));
/** Every column as the server's text, the way psql prints it, so expect.result compares strings. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * Opens a fresh session (no pool: latency includes TCP, TLS and authentication), asks whether it
 * reached the primary, optionally runs a read-only query, and closes the session in every path.
 */
export const check: CheckType<PostgresSpec, PostgresObservations> = {
  async run(spec, ctx) {
    const observations: PostgresObservations = { host: spec.host, port: spec.port, database: spec.database, user: spec.user, sslmode: spec.sslmode };
    const password = await spec.password.reveal();
    const ssl = await postgresTlsOptions(spec, ctx.signal);
    ctx.signal.throwIfAborted();
    const client = new pg.Client({ host: spec.host, port: spec.port, database: spec.database, user: spec.user, password, ssl, application_name: 'driftwatch' });
    // Bounds what the server can make this process read and parse, whatever it declares (postgres-guard.ts).
    guardConnection(client.connection);
    // Errors surface through the pending connect() or query(); an unlistened 'error' would crash the daemon.
    client.on('error', () => undefined);
    const destroy = () => client.connection.stream.destroy();
    ctx.signal.addEventListener('abort', destroy, { once: true });
    let connected = false;
    try {
      const started = performance.now();
      const phase = watchHandshake(client, ssl !== false, started, observations, ctx);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        destroy();
      }, spec.connectTimeout);
      try {
        await client.connect();
        connected = true;
      } catch (err) {
        return { observations, failure: connectFailure(err, spec, phase(), timedOut) };
      } finally {
        clearTimeout(timer);
      }
      observations.connectMs = since(started);
      ctx.trace('authenticated', { connectMs: observations.connectMs });
      return { observations, failure: await inspect(client, spec, observations, ctx) };
    } finally {
      ctx.signal.removeEventListener('abort', destroy);
      await close(client, connected && !ctx.signal.aborted);
    }
  },
  samples(_spec, observations) {
    if (observations?.primary === undefined) return [];
    return [{ name: 'driftwatch_postgres_primary', value: observations.primary ? 1 : 0 }];
  },
};

/** Server facts, the primary expectation and the custom query; every failed expectation is named. */
async function inspect(client: pg.Client, spec: PostgresSpec, observations: PostgresObservations, ctx: RunContext): Promise<Failure | undefined> {
  const queryStarted = performance.now();
  let status: z.infer<typeof statusRow>;
  try {
    status = statusRow.parse((await client.query(STATUS_SQL)).rows[0]);
  } catch (err) {
    const failure = describeError(err);
    return { reason: failure.reason, message: `status query failed: ${failure.message}` };
  }
  observations.queryMs = since(queryStarted);
  observations.serverVersion = shorten(status.version);
  observations.primary = !status.in_recovery;
  if (status.in_recovery) observations.replicationLagSeconds = status.lag_seconds;
  ctx.trace('status', { serverVersion: status.version, primary: observations.primary, queryMs: observations.queryMs });

  const problems: string[] = [];
  if (spec.expect.primary === true && status.in_recovery) problems.push('reached a replica (pg_is_in_recovery() = true), expected the primary');
  if (spec.expect.primary === false && !status.in_recovery) problems.push('reached the primary (pg_is_in_recovery() = false), expected a replica');
  if (spec.query !== undefined) {
    const ran = await runQuery(client, spec.query, spec.timeout);
    if ('failure' in ran) {
      if (ran.failure.reason !== 'assertion') return ran.failure;
      return { reason: 'assertion', message: [...problems, ran.failure.message].join('; ') };
    }
    observations.query = { ...ran, first: ran.first === null ? null : shorten(ran.first) };
    ctx.trace('query', { rows: ran.rows, ms: ran.ms });
    problems.push(...judgeQuery(spec.expect, ran));
  }
  return problems.length > 0 ? { reason: 'assertion', message: problems.join('; ') } : undefined;
}

async function runQuery(client: pg.Client, sql: string, timeoutMs: number): Promise<{ rows: number; first: string | null; ms: number } | { failure: Failure }> {
  const started = performance.now();
  try {
    // The server stops the query itself at the run's timeout instead of running on after we hang up.
    await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.round(timeoutMs)}`);
    // The extended protocol takes exactly one statement, so "COMMIT; DELETE ..." cannot leave the read-only transaction.
    const config: pg.QueryArrayConfig & { queryMode: 'extended' } = { text: sql, rowMode: 'array', queryMode: 'extended', types: RAW_TEXT };
    const rows = textRows.parse((await client.query(config)).rows);
    return { rows: rows.length, first: rows[0]?.[0] ?? null, ms: since(started) };
  } catch (err) {
    return { failure: queryFailure(err) };
  }
  // No ROLLBACK: ending the session right after ends the READ ONLY transaction too.
}

function judgeQuery(expect: PostgresSpec['expect'], ran: { rows: number; first: string | null }): string[] {
  const problems: string[] = [];
  if (expect.result !== undefined) {
    const actual = ran.rows === 0 ? 'no rows' : ran.first === null ? 'NULL' : JSON.stringify(shorten(ran.first));
    if (ran.rows === 0 || ran.first !== expect.result) problems.push(`query returned ${actual}, expected ${JSON.stringify(expect.result)}`);
  }
  if (expect.minRows !== undefined && ran.rows < expect.minRows) {
    problems.push(`query returned ${ran.rows} row${ran.rows === 1 ? '' : 's'}, expected at least ${expect.minRows}`);
  }
  return problems;
}

/**
 * A failed custom query: a statement that writes or does not parse is a mistake in the check file;
 * a server that broke the protocol is not the query's fault.
 */
function queryFailure(err: unknown): Failure {
  const failure = describeError(err);
  const code = errorCode(err);
  if (code === '25006' || code === '42601') return { reason: 'config', message: `query is not a single read-only statement: ${failure.message}` };
  if (failure.reason !== 'error' || err instanceof PostgresProtocolViolation) return { reason: failure.reason, message: `query failed: ${failure.message}` };
  return { reason: 'assertion', message: `query failed: ${failure.message}` };
}

/** Records how far the handshake got, for timings and for naming the phase a failure happened in. */
function watchHandshake(client: pg.Client, tls: boolean, started: number, observations: PostgresObservations, ctx: RunContext): () => Phase {
  let phase: Phase = 'tcp';
  const socket = client.connection.stream;
  socket.once('connect', () => {
    observations.tcpMs = since(started);
    if (socket instanceof Socket) observations.address = socket.remoteAddress;
    if (!tls) observations.tls = false;
    ctx.trace('tcp connected', { address: observations.address, tcpMs: observations.tcpMs });
    phase = tls ? 'tls' : 'auth';
  });
  client.connection.once('sslconnect', () => {
    const secure = client.connection.stream;
    if (!(secure instanceof TLSSocket)) return;
    secure.once('secureConnect', () => {
      observations.tls = true;
      observations.tlsMs = since(started) - (observations.tcpMs ?? 0);
      observations.tlsProtocol = secure.getProtocol() ?? undefined;
      ctx.trace('tls established', { protocol: observations.tlsProtocol, tlsMs: observations.tlsMs });
      phase = 'auth';
    });
  });
  return () => phase;
}

function connectFailure(err: unknown, spec: PostgresSpec, phase: Phase, timedOut: boolean): Failure {
  const at = `${spec.host}:${spec.port}`;
  if (timedOut) {
    const stuck = { tcp: 'the TCP connect', tls: 'TLS negotiation: the server accepted TCP but did not answer', auth: 'authentication' }[phase];
    return { reason: 'timeout', message: `no answer from ${at} within connectTimeout ${formatDuration(spec.connectTimeout)} (stuck in ${stuck})` };
  }
  const failure = describeError(err);
  if (phase === 'tls' || failure.reason === 'tls') {
    const trust = spec.sslmode.startsWith('verify') ? `, ca ${spec.ca ?? 'system CAs'}${spec.serverName ? `, serverName ${spec.serverName}` : ''}` : '';
    return { reason: failure.reason === 'error' ? 'tls' : failure.reason, message: `TLS with ${at} failed (sslmode ${spec.sslmode}${trust}): ${failure.message}` };
  }
  if (phase === 'auth') {
    const reason = failure.reason === 'error' && failure.message.startsWith('SASL') ? 'auth' : failure.reason === 'error' ? 'connect' : failure.reason;
    return { reason, message: `login as "${spec.user}" to database "${spec.database}" at ${at} failed: ${failure.message}` };
  }
  return { reason: failure.reason === 'error' ? 'connect' : failure.reason, message: `connecting to ${at} failed: ${failure.message}` };
}

/** Says goodbye (Terminate) when the session is healthy, so the server logs no broken connection; destroys otherwise. */
async function close(client: pg.Client, graceful: boolean): Promise<void> {
  const stream = client.connection.stream;
  if (graceful) {
    const timer = setTimeout(() => stream.destroy(), 1000);
    try {
      await client.end();
    } catch {
      // The socket is destroyed below in any case.
    } finally {
      clearTimeout(timer);
    }
  }
  stream.destroy();
}

/**
 * classifyError on an error whose text is cut first: pg's own errors can carry what the server
 * sent (a SCRAM error); its ErrorResponses were cut when they arrived (postgres-guard.ts).
 */
function describeError(err: unknown): Failure {
  if (err instanceof Error) err.message = shortenServerText(err.message);
  return classifyError(err);
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function since(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
