/**
 * How long a reload of a large check file keeps the daemon from answering. Writes N checks that
 * never run (a yearly schedule, loopback targets) and reloads them `--rounds` times:
 *
 * - by default, the compiled CLI (`driftwatch serve`, bin/driftwatch.js on dist/) in its own
 *   process, reloaded by SIGHUP while /healthz is polled every 20 ms: how long the reload took
 *   (SIGHUP to the "checks reloaded" log line), the slowest /healthz answer and how many came;
 * - with --in-process, createDaemon() from dist/ in this process, reloaded while a 5 ms timer
 *   records the longest gap between its ticks: the event loop alone, without HTTP or the OS
 *   scheduling a second process on a busy machine.
 *
 * --change says what each round's reload changes: nothing (`none`, the default: the same files
 * again), every check's spec (`labels`: a static label takes the round's value), or every check
 * (`names`: all removed, as many new ones added). Above 10,000 checks the checks are split over
 * files of 10,000 (a check file may hold at most 8 MiB).
 *
 * --root DIR measures another build (a checkout with its own dist/ and bin/), to compare a change
 * against the code before it.
 *
 *   npm run build && npx tsx bench/reload-block.ts --checks 100000 --rounds 3 --in-process [--change labels] [--root DIR]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CHECKS_PER_FILE, scaleChecks, writeCheckFolder } from './lib/checks-file.js';
import { ROOT } from './lib/build.js';
import { freePort } from './lib/ports.js';

const { values } = parseArgs({
  options: {
    checks: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    'in-process': { type: 'boolean', default: false },
    change: { type: 'string', default: 'none' },
    root: { type: 'string' },
  },
});
const change = values.change;
if (change !== 'none' && change !== 'labels' && change !== 'names') throw new Error(`--change: none, labels or names, not ${change}`);
const count = Number(values.checks);
const rounds = Math.min(10, Number(values.rounds));
const root = values.root ?? ROOT;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dir = await mkdtemp(join(tmpdir(), 'driftwatch-reload-block-'));
// A folder of files: one file may hold at most 8 MiB (about 45,000 such checks).
const file = join(dir, 'checks');
/** The files as round `round` reloads them (round 0: the first load). */
async function writeRound(round: number): Promise<void> {
  const version = change === 'none' ? 0 : round;
  const checks = scaleChecks(count, 'http://127.0.0.1:9/', '127.0.0.1:9', '30s').map(({ interval: _interval, name, labels: _labels, ...check }) => ({
    ...check,
    name: change === 'names' && version % 2 === 1 ? `next-${String(name)}` : name,
    labels: { version: change === 'labels' ? `v${version}` : 'v0' },
    schedule: '0 0 1 1 *',
  }));
  await writeCheckFolder(file, checks);
}

try {
  await writeRound(0);
  const bytes = (await Promise.all((await readdir(file)).map(async (name) => (await stat(join(file, name))).size))).reduce((a, b) => a + b, 0);
  console.log(`${count} checks in ${Math.ceil(count / CHECKS_PER_FILE)} files, ${(bytes / 1e6).toFixed(2)} MB, each reload changes ${change === 'none' ? 'nothing' : change === 'labels' ? 'every spec' : 'every name'}; Node ${process.version}; ${root}`);
  await (values['in-process'] ? inProcess() : asProcess());
} finally {
  await rm(dir, { recursive: true, force: true });
}

async function inProcess(): Promise<void> {
  const { createDaemon } = (await import(pathToFileURL(join(root, 'dist/daemon/daemon.js')).href)) as typeof import('../src/daemon/daemon.js');
  const { createLogger } = (await import(pathToFileURL(join(root, 'dist/results/log.js')).href)) as typeof import('../src/results/log.js');
  const daemon = createDaemon({ checkPaths: [file], log: createLogger('warn') });
  await daemon.load();
  console.log('| round | reload (ms) | longest event-loop gap (ms) | gaps over 50 ms |\n|---|---|---|---|');
  for (let round = 1; round <= rounds; round++) {
    await writeRound(round);
    let last = performance.now();
    let longest = 0;
    let over50 = 0;
    const start = last;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      if (now - last > 50) over50++;
      last = now;
    }, 5);
    const outcome = await daemon.reload();
    clearInterval(timer);
    // A gap still open when the reload ends counts too (a reload that never yields has only that one).
    longest = Math.max(longest, performance.now() - last);
    if (!outcome.ok) throw new Error(outcome.problems.join('\n'));
    console.log(`| ${round} | ${(performance.now() - start).toFixed(0)} | ${longest.toFixed(0)} | ${over50} |`);
    await sleep(1000);
  }
  await daemon.stop(0);
}

async function asProcess(): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bin/driftwatch.js'), 'serve', '--checks', file, '--listen', `127.0.0.1:${port}`, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let reloaded = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    reloaded += chunk.toString().split('"msg":"checks reloaded"').length - 1;
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 1800 && !(await fetch(`${base}/readyz`).then((r) => r.ok, () => false)); i++) await sleep(100);
    console.log('| round | reload (ms) | slowest /healthz (ms) | /healthz answered |\n|---|---|---|---|');
    for (let round = 1; round <= rounds; round++) {
      await writeRound(round);
      const before = reloaded;
      const start = performance.now();
      child.kill('SIGHUP');
      let slowest = 0;
      let answered = 0;
      // Bounded: at most 120 s per round.
      while (reloaded === before && performance.now() - start < 120_000) {
        const sent = performance.now();
        await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(120_000) });
        slowest = Math.max(slowest, performance.now() - sent);
        answered++;
        // Not back to back: a busy poller would compete with the reload it measures.
        await sleep(20);
      }
      console.log(`| ${round} | ${(performance.now() - start).toFixed(0)} | ${slowest.toFixed(0)} | ${answered} |`);
      await sleep(1000);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));
  }
}
