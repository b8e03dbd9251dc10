/**
 * A real Knot DNS server (knotd, Debian package `knot`) on 127.0.0.1, UDP and TCP, on a free port,
 * authoritative for the zones a test gives it:
 * - a zone with records answers them (NXDOMAIN for missing names, NODATA for missing types);
 * - a zone given as null is configured without a zone file, so its names answer SERVFAIL;
 * - names outside every zone answer REFUSED.
 * setZone() rewrites a zone file with a higher serial and reloads it under the running server,
 * which is how tests make DNS drift.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode, encode } from 'dns-packet';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);

/** Zone name -> zone-file lines relative to the zone (`hub 300 A 127.0.0.2`), or null for SERVFAIL. */
export type KnotZones = Record<string, readonly string[] | null>;

export interface Knot {
  /** `127.0.0.1:PORT`, as a dns check's resolvers entry. */
  address: string;
  host: string;
  port: number;
  /** Replaces the zone's records (zone-file lines) and waits until Knot serves them. */
  setZone(name: string, records: readonly string[]): Promise<void>;
  /** Everything knotd wrote to stderr, for failing tests. */
  log(): string;
  close(): Promise<void>;
}

const KNOTD = '/usr/sbin/knotd';
const KNOTC = '/usr/sbin/knotc';

export async function startKnot(options: { zones: KnotZones }): Promise<Knot> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-knot-'));
  try {
    await mkdir(join(dir, 'zones'));
    await mkdir(join(dir, 'db'));
    const serials = new Map<string, number>();
    const writeZone = async (name: string, records: readonly string[]) => {
      const serial = (serials.get(name) ?? 0) + 1;
      serials.set(name, serial);
      await writeFile(join(dir, 'zones', `${bare(name)}.zone`), zoneFile(name, serial, records));
    };
    for (const [name, records] of Object.entries(options.zones)) if (records) await writeZone(name, records);
    const withFiles = Object.entries(options.zones).flatMap(([name, records]) => (records ? [name] : []));

    // Another process may take the free port before knotd binds it; knotd then exits: try again.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const conf = join(dir, 'knot.conf');
      await writeFile(conf, config(dir, port, Object.keys(options.zones)));
      const child = spawn(KNOTD, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      let ended = false;
      const exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          ended = true;
          stderr += `\n[knotd exited: ${code ?? signal ?? '?'}]`;
          resolve();
        });
        child.once('error', (err) => {
          ended = true;
          stderr += `\n[${err.message}: is Debian's knot package installed?]`;
          resolve();
        });
      });
      try {
        await waitReady(() => ended, port, withFiles, () => stderr);
      } catch (err) {
        child.kill('SIGKILL');
        await exited;
        if (attempt < 5 && /cannot bind|address already in use/.test(stderr)) continue;
        throw err;
      }
      return {
        address: `127.0.0.1:${port}`,
        host: '127.0.0.1',
        port,
        async setZone(name, records) {
          await writeZone(name, records);
          // -b blocks until the zone is loaded, so the next query sees the new records.
          await run(KNOTC, ['-c', conf, '-b', 'zone-reload', fqdnOf(name)], { timeout: 10_000 });
        },
        log: () => stderr,
        async close() {
          if (!ended) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
            await exited;
            clearTimeout(killer);
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function config(dir: string, port: number, zones: readonly string[]): string {
  return [
    'server:',
    `    listen: 127.0.0.1@${port}`,
    `    rundir: ${dir}`,
    `    pidfile: ${join(dir, 'knot.pid')}`,
    // knotd switches to this user after binding; the default (root) fails for other users.
    `    user: ${userInfo().username}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'control:',
    `    listen: ${join(dir, 'knot.sock')}`,
    'database:',
    `    storage: ${join(dir, 'db')}`,
    'log:',
    '  - target: stderr',
    '    any: info',
    'template:',
    '  - id: default',
    `    storage: ${join(dir, 'zones')}`,
    '    file: "%s.zone"',
    // Serve the zone files as written: never write back, never keep a journal across reloads.
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...zones.map((zone) => `  - domain: ${fqdnOf(zone)}`),
    '',
  ].join('\n');
}

function zoneFile(name: string, serial: number, records: readonly string[]): string {
  const origin = fqdnOf(name);
  return [
    `$ORIGIN ${origin}`,
    '$TTL 300',
    `@ 300 SOA ns.${origin} hostmaster.${origin} ${serial} 3600 600 86400 60`,
    `@ 300 NS ns.${origin}`,
    'ns 300 A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

/** Waits until knotd answers SOA for every zone that has a file (it loads zones after binding). */
async function waitReady(ended: () => boolean, port: number, zones: readonly string[], log: () => string): Promise<void> {
  const until = Date.now() + 10_000;
  const pending = new Set(zones.length > 0 ? zones : ['.']);
  while (Date.now() < until) {
    if (ended()) throw new Error(`knotd did not start:\n${log()}`);
    for (const zone of [...pending]) {
      const rcode = await soaRcode(port, zone);
      // Any answer at all proves the server is up when there is no zone to wait for.
      if (rcode === 'NOERROR' || (zone === '.' && rcode !== undefined)) pending.delete(zone);
    }
    if (pending.size === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`knotd did not serve ${[...pending].join(', ')} within 10s:\n${log()}`);
}

/** One SOA query over UDP with a short wait; undefined when nothing answers. */
async function soaRcode(port: number, zone: string): Promise<string | undefined> {
  const socket = createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const silent = () => {
        resolve(undefined);
      };
      timer = setTimeout(silent, 200);
      socket.on('error', silent);
      socket.on('message', (data) => {
        const flags = decode(data).flags ?? 0;
        resolve(['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][flags & 0xf] ?? 'OTHER');
      });
      socket.connect(port, '127.0.0.1', () => {
        socket.send(encode({ type: 'query', id: 1, questions: [{ type: 'SOA', name: zone }] }));
      });
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}


function fqdnOf(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function bare(name: string): string {
  return name.replace(/\.$/, '');
}
