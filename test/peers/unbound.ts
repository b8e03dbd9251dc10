/**
 * A real caching resolver (Debian's `unbound`, in the foreground) on 127.0.0.1 on a free port,
 * with stub zones pointing at an authoritative server on loopback (Knot): it caches answers for
 * their TTL, as a public resolver does, which is what propagation tests need. Everything else is
 * forwarded to that same server, so unbound never sends a query off the machine.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryDns } from '../../src/net/dns-query.js';
import { freePort } from '../support/ports.js';

export interface Unbound {
  /** `127.0.0.1:PORT`, as a dns check's resolvers entry. */
  address: string;
  port: number;
  /** How many queries for `name` (any type, `hub.example.test.`) unbound has received, from its query log. */
  queries(name: string): number;
  log(): string;
  close(): Promise<void>;
}

const UNBOUND = '/usr/sbin/unbound';

/** `zones`: the names unbound asks `upstream` (`127.0.0.1:PORT`) about directly. */
export async function startUnbound(options: { upstream: string; zones: readonly string[] }): Promise<Unbound> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-unbound-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const conf = join(dir, 'unbound.conf');
      await writeFile(conf, config(dir, port, options.upstream.replace(':', '@'), options.zones));
      const child = spawn(UNBOUND, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let partial = '';
      const asked = new Map<string, number>();
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        // Bounded: a test only needs the end of it.
        stderr = (stderr + chunk).slice(-20_000);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          // log-queries: "[1234:0] info: 127.0.0.1 hub.prop.test. A IN"
          const name = / info: \S+ (\S+) \S+ IN$/.exec(line)?.[1]?.toLowerCase();
          if (name !== undefined) asked.set(name, (asked.get(name) ?? 0) + 1);
        }
      });
      let ended = false;
      const exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          ended = true;
          stderr += `\n[unbound exited: ${code ?? signal ?? '?'}]`;
          resolve();
        });
        child.once('error', (err) => {
          ended = true;
          stderr += `\n[${err.message}: is Debian's unbound package installed? (scripts/test-deps.sh)]`;
          resolve();
        });
      });
      const close = async () => {
        if (!ended) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killer);
        }
      };
      if (await ready(port, options.zones[0] ?? '.', () => ended)) {
        return {
          address: `127.0.0.1:${port}`,
          port,
          queries: (name) => asked.get(name.toLowerCase()) ?? 0,
          log: () => stderr,
          async close() {
            await close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await close();
      if (attempt >= 5 || !/bind|address already in use/i.test(stderr)) throw new Error(`unbound did not start:\n${stderr}`);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function config(dir: string, port: number, upstream: string, zones: readonly string[]): string {
  return [
    'server:',
    `    interface: 127.0.0.1@${port}`,
    `    port: ${port}`,
    '    username: ""',
    '    chroot: ""',
    `    directory: "${dir}"`,
    `    pidfile: "${join(dir, 'unbound.pid')}"`,
    '    use-syslog: no',
    '    logfile: ""',
    '    verbosity: 1',
    // One line per query received: tests count what reached the cache.
    '    log-queries: yes',
    '    num-threads: 1',
    '    do-ip6: no',
    '    do-not-query-localhost: no',
    '    module-config: "iterator"',
    // Keep the TTLs as the zone gives them, so a test's short TTL runs out when it says.
    '    cache-min-ttl: 0',
    '    qname-minimisation: no',
    '    access-control: 127.0.0.0/8 allow',
    // unbound answers RFC 6761 names (.test) NXDOMAIN itself unless told otherwise.
    '    local-zone: "test." nodefault',
    ...zones.flatMap((zone) => ['stub-zone:', `    name: "${zone}"`, `    stub-addr: ${upstream}`]),
    'forward-zone:',
    '    name: "."',
    `    forward-addr: ${upstream}`,
    'remote-control:',
    '    control-enable: no',
    '',
  ].join('\n');
}

/** Waits until unbound answers anything for the first zone (it binds after reading its config). */
async function ready(port: number, zone: string, ended: () => boolean): Promise<boolean> {
  const until = Date.now() + 10_000;
  while (Date.now() < until && !ended()) {
    try {
      await queryDns({ host: '127.0.0.1', port, name: zone, record: 'SOA', transport: 'udp', timeoutMs: 300, signal: new AbortController().signal });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return false;
}
