/**
 * A real PostgreSQL 15 server for tests: scram-sha-256 over TLS only (hostssl), a certificate
 * signed by a per-run CA (SAN IP:127.0.0.1, DNS:localhost), a random port on 127.0.0.1, run as
 * the `postgres` OS user because PostgreSQL refuses root. `standby: true` starts it in recovery
 * (standby.signal), which is what a CloudNativePG `-rw` service reaching a replica looks like.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresPeer {
  host: '127.0.0.1';
  port: number;
  user: string;
  database: string;
  /** The superuser's password; doubles as a canary (it must never appear in any output). */
  password: string;
  /** PEM of the CA that signed the server certificate. */
  caPath: string;
  /** PEM of an unrelated CA, for "wrong CA". */
  otherCaPath: string;
  /** Runs one SQL statement as the superuser over TLS and returns its rows (writes fail on a standby). */
  query(sql: string): Promise<unknown[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const USER = 'driftwatch';
const DATABASE = 'postgres';

/**
 * initdb is most of a server's start-up cost (seconds on a busy CI machine), so each test process
 * runs it once, with the certificates, and every server copies that template.
 */
interface Template {
  dir: string;
  password: string;
}
let template: Promise<Template> | undefined;
let templateUsers = 0;

export async function startPostgres(options: { standby?: boolean } = {}): Promise<PostgresPeer> {
  templateUsers++;
  const made = (template ??= createTemplate());
  let dir: string | undefined;
  let running = false;
  let port = 0;
  const data = () => join(dir ?? '', 'data');
  const asPostgres = (bin: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(BIN, bin), ...args], { cwd: dir });
  const start = async () => {
    try {
      await asPostgres('pg_ctl', ['-D', data(), '-l', join(dir ?? '', 'server.log'), '-w', '-t', '30', '-o', `-p ${port}`, 'start']);
    } catch (err) {
      const log = await readFile(join(dir ?? '', 'server.log'), 'utf8').catch(() => '');
      throw new Error(`PostgreSQL did not start on port ${port}:\n${log.split('\n').slice(-12).join('\n')}`, { cause: err });
    }
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await asPostgres('pg_ctl', ['-D', data(), '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await stop();
    } finally {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      await releaseTemplate(made);
    }
  };

  try {
    const { dir: templateDir } = await made;
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-pg-'));
    await run('cp', ['-a', `${templateDir}/.`, dir]);
    await appendFile(join(data(), 'postgresql.conf'), serverSettings(dir));
    if (options.standby) await writeFile(join(data(), 'standby.signal'), '');
    await run('chown', ['-R', 'postgres:postgres', dir]);
    // A free port can be taken by a parallel test between probing and binding: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (err) {
        if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
      }
    }
  } catch (err) {
    await close();
    throw err;
  }

  const { password } = await made;
  const caPath = join(dir, 'ca.crt');
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    user: USER,
    database: DATABASE,
    password,
    caPath,
    otherCaPath: join(dir, 'other-ca.crt'),
    query: (sql) => adminQuery({ port, password, caPath }, sql),
    stop,
    start,
    close,
  };
}

async function createTemplate(): Promise<Template> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-pg-template-'));
  const password = `canary-pg-${randomBytes(9).toString('hex')}`;
  try {
    await mintCertificates(dir);
    await writeFile(join(dir, 'pwfile'), `${password}\n`);
    await run('chown', ['-R', 'postgres:postgres', dir]);
    const initdb = ['-D', join(dir, 'data'), '-U', USER, `--pwfile=${join(dir, 'pwfile')}`, '--auth-host=scram-sha-256', '--auth-local=reject', '-E', 'UTF8', '--no-sync'];
    await run('runuser', ['-u', 'postgres', '--', join(BIN, 'initdb'), ...initdb], { cwd: dir });
    await rm(join(dir, 'pwfile'));
    await writeFile(join(dir, 'data', 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 scram-sha-256\n');
    return { dir, password };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Removes the template when its last server closed (or it failed to be made). */
async function releaseTemplate(made: Promise<Template>): Promise<void> {
  templateUsers--;
  if (templateUsers > 0 || template !== made) return;
  template = undefined;
  const done = await made.catch(() => undefined);
  if (done) await rm(done.dir, { recursive: true, force: true });
}

function serverSettings(dir: string): string {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    ssl: 'on',
    ssl_cert_file: join(dir, 'server.crt'),
    ssl_key_file: join(dir, 'server.key'),
    password_encryption: 'scram-sha-256',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '16MB',
    logging_collector: 'off',
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key} = '${value}'\n`)
    .join('');
}

/** A per-run CA, a server certificate it signs, and an unrelated second CA. */
async function mintCertificates(dir: string): Promise<void> {
  const at = (name: string) => join(dir, name);
  const ca = (name: string, cn: string) =>
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`)]);
  await ca('ca', 'driftwatch test CA');
  await ca('other-ca', 'driftwatch unrelated CA');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', at('server.key'), '-out', at('server.csr')]);
  await writeFile(at('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', at('server.ext'), '-out', at('server.crt')]);
  await run('chmod', ['0600', at('server.key')]);
}

async function adminQuery(target: { port: number; password: string; caPath: string }, sql: string): Promise<unknown[]> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: target.port,
    user: USER,
    database: DATABASE,
    password: target.password,
    ssl: { ca: await readFile(target.caPath, 'utf8') },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const rows: unknown[] = (await client.query(sql)).rows;
    return rows;
  } finally {
    await client.end();
  }
}

