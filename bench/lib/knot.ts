import { userInfo } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild, sleep, type Child } from './child.js';
import { queryOnce } from './dns-ping.js';
import { freePort } from './ports.js';

export const KNOTD = '/usr/sbin/knotd';

export interface Knot {
  child: Child;
  host: string;
  port: number;
  /** `127.0.0.1:PORT`, as a dns check's resolvers entry. */
  address: string;
}

/** The zone the benchmarks ask about: every name in it answers one A record. */
export const BENCH_ZONE = 'bench.example';
export const BENCH_ANSWER = '127.0.0.10';

/** knotd on 127.0.0.1 (UDP and TCP), authoritative for BENCH_ZONE with a wildcard A record. */
export async function startKnot(dir: string): Promise<Knot> {
  const home = join(dir, 'knot');
  await mkdir(join(home, 'zones'), { recursive: true });
  await mkdir(join(home, 'db'), { recursive: true });
  await writeFile(
    join(home, 'zones', `${BENCH_ZONE}.zone`),
    [
      `$ORIGIN ${BENCH_ZONE}.`,
      '$TTL 300',
      `@ SOA ns.${BENCH_ZONE}. hostmaster.${BENCH_ZONE}. 1 3600 600 86400 60`,
      `@ NS ns.${BENCH_ZONE}.`,
      'ns A 127.0.0.1',
      `@ A ${BENCH_ANSWER}`,
      `* A ${BENCH_ANSWER}`,
      '',
    ].join('\n'),
  );
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(home, 'knot.conf');
    await writeFile(conf, config(home, port));
    const child = startChild({ name: 'knotd', command: KNOTD, args: ['-c', conf], logFile: join(home, 'knotd.log') });
    const until = Date.now() + 10_000;
    while (Date.now() < until && child.alive()) {
      const answer = await queryOnce('127.0.0.1', port, BENCH_ZONE, 'SOA', 200);
      if (answer?.rcode === 'NOERROR') return { child, host: '127.0.0.1', port, address: `127.0.0.1:${port}` };
      await sleep(25);
    }
    await child.stop();
    if (attempt >= 3) throw new Error(`knotd did not serve ${BENCH_ZONE}:\n${child.logTail()}`);
  }
}

function config(home: string, port: number): string {
  return [
    'server:',
    `    listen: 127.0.0.1@${port}`,
    `    rundir: ${home}`,
    `    pidfile: ${join(home, 'knot.pid')}`,
    // knotd switches to this user after binding; the default (root) fails for other users.
    `    user: ${userInfo().username}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'control:',
    `    listen: ${join(home, 'knot.sock')}`,
    'database:',
    `    storage: ${join(home, 'db')}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'template:',
    '  - id: default',
    `    storage: ${join(home, 'zones')}`,
    '    file: "%s.zone"',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    `  - domain: ${BENCH_ZONE}.`,
    '',
  ].join('\n');
}
