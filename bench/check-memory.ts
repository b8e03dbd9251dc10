/**
 * Where a check's memory goes: the daemon's parts composed in this process as daemon.ts composes
 * them (load, state, series, scheduler, recorder), N checks of the scale mix (http against nginx,
 * tcp against nginx, dns against Knot), the live heap measured after a full GC at each stage on
 * the way up, then each part's retained size by taking it away again. Not a test.
 *
 *   npx tsx bench/check-memory.ts [--checks 5000] [--runs 21] [--root DIR] [--snapshots DIR]
 *
 * --snapshots DIR writes a heap snapshot after each stage (stage-N.heapsnapshot), for a diff by
 * constructor of what a stage added.
 * --root DIR measures another checkout's compiled dist/ (npm run build there first), to compare
 * a change with the code before it in the same session.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LoadedCheck } from '../src/checks/registry.js';
import { buildForBench, ROOT } from './lib/build.js';
import { scaleChecks, writeChecks } from './lib/checks-file.js';
import { onCleanup, runBenchmark } from './lib/cleanup.js';
import { startKnot } from './lib/knot.js';
import { startNginx } from './lib/nginx.js';

type Modules = Awaited<ReturnType<typeof importModules>>;

/**
 * The daemon's modules as compiled JavaScript: `dist` is the build's src/ (bench/lib/build.ts,
 * or another checkout's dist/). Not through tsx: its esbuild keeps function names by defining
 * `name` on every closure, which puts each closure's properties in a 256-byte dictionary and
 * would be counted as the daemon's.
 */
async function importModules(dist: string) {
  const from = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(dist, path)).href)) as T;
  return {
    registry: await from<typeof import('../src/checks/registry.js')>('checks/registry.js'),
    load: await from<typeof import('../src/config/load.js')>('config/load.js'),
    state: await from<typeof import('../src/state/state-store.js')>('state/state-store.js'),
    series: await from<typeof import('../src/metrics/series-store.js')>('metrics/series-store.js'),
    daemonMetrics: await from<typeof import('../src/metrics/daemon-metrics.js')>('metrics/daemon-metrics.js'),
    recorder: await from<typeof import('../src/daemon/recorder.js')>('daemon/recorder.js'),
    scheduler: await from<typeof import('../src/scheduler/scheduler.js')>('scheduler/scheduler.js'),
    runner: await from<typeof import('../src/runner/runner.js')>('runner/runner.js'),
    services: await from<typeof import('../src/runner/services.js')>('runner/services.js'),
    log: await from<typeof import('../src/results/log.js')>('results/log.js'),
    promClient: await import('prom-client'),
  };
}

// gc() without --expose-gc on the command line: the flag set now, a fresh context reads it.
setFlagsFromString('--expose-gc');
const gcFunction: unknown = runInNewContext('gc');

/** The live heap after two full GCs (the second catches what the first's finalizers freed). */
async function liveHeap(): Promise<number> {
  if (typeof gcFunction !== 'function') throw new Error('gc() is not available');
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    Reflect.apply(gcFunction, undefined, []);
  }
  return process.memoryUsage().heapUsed;
}

interface Row {
  item: string;
  bytes: number;
}

async function measure(m: Modules, file: string, runs: number, log: (line: string) => void, snapshots: string | undefined): Promise<{ up: Row[]; down: Row[]; count: number }> {
  const logger = m.log.createLogger('warn');
  const services = m.services.createServices({ release: undefined, lookupCheck: () => undefined });
  const state = m.state.createStateStore<LoadedCheck>();
  const series = m.series.createSeriesStore({ location: undefined });
  const metrics = m.daemonMetrics.createDaemonMetrics(new m.promClient.Registry(), {});
  const recorder = m.recorder.createRecorder({ log: logger, state, series, metrics });
  const scheduler = m.scheduler.createScheduler({ concurrency: 1, log: logger, onLag: () => undefined, execute: async () => undefined });
  const up: Row[] = [];
  let before = await liveHeap();
  if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, 'stage-0.heapsnapshot'));
  const step = async (item: string): Promise<void> => {
    const now = await liveHeap();
    up.push({ item, bytes: now - before });
    log(`${item}: ${((now - before) / 1024 / 1024).toFixed(1)} MB`);
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, `stage-${up.length}.heapsnapshot`));
    before = now;
  };
  let checks = await m.load.loadChecks([file], m.registry.checkTypes);
  await m.services.prepareServices(services, checks.map((c) => c.spec));
  await step('loaded check (spec, bound, key, dependencies)');
  let held = state.set(checks);
  await step('state entry (history ring)');
  for (const check of held) series.declare(check);
  await step('series entry (declared)');
  scheduler.update(held);
  scheduler.start();
  await step('scheduler entry, heap slot');
  for (const check of held) recorder.loggerFor(check);
  await step('child logger (for its runs)');
  for (let round = 1; round <= runs; round++) {
    await runAll(held, async (check) => {
      const run = await m.runner.runCheck(check.bound, { log: recorder.loggerFor(check), services, failureLevel: 'debug' });
      recorder.record(check, run);
    });
    if (round === 1) await step('first run (latest result, samples, series)');
  }
  await step(`${runs - 1} more runs (history)`);
  const count = held.length;
  // Each part's retained size, taking them away in turn.
  const down: Row[] = [];
  const names = held.map((c) => c.spec.name);
  const drop = async (item: string, action: () => void | Promise<void>): Promise<void> => {
    await action();
    const now = await liveHeap();
    down.push({ item, bytes: before - now });
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, `down-${down.length}.heapsnapshot`));
    before = now;
  };
  await drop('series (entry; its text or samples)', () => {
    for (const name of names) series.remove(name);
  });
  await drop('child logger, outcome log', () => {
    for (const name of names) recorder.forget(name);
  });
  await drop('scheduler entries', async () => {
    scheduler.update([]);
    await scheduler.stop(0);
  });
  await drop('state (entries, latest results, history)', () => {
    state.set([]);
    held = [];
  });
  await drop('loaded checks', () => {
    checks = [];
  });
  return { up, down, count };
}

/** Runs `work` on every check, 32 at a time. */
async function runAll<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let at = next++; at < items.length; at = next++) {
      const item = items[at];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

await runBenchmark(async () => {
  const { values } = parseArgs({ options: { checks: { type: 'string', default: '5000' }, runs: { type: 'string', default: '21' }, root: { type: 'string' }, snapshots: { type: 'string' } } });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-check-memory-'));
  onCleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
  const nginx = await startNginx(dir);
  const knot = await startKnot(dir);
  const file = join(dir, 'checks.yaml');
  await writeChecks(file, scaleChecks(Number(values.checks), nginx.url(), knot.address, '60s', nginx.port));
  const dist = values.root === undefined ? join((await buildForBench(log)).out, 'src') : join(values.root, 'dist');
  const m = await importModules(dist);
  const { up, down, count } = await measure(m, file, Number(values.runs), log, values.snapshots);
  const per = (bytes: number) => Math.round(bytes / count);
  console.log(`\n${count} checks (a third each http, tcp, dns), ${values.runs} runs each; ${values.root ?? ROOT} (${dist}); Node ${process.version}\n`);
  console.log('| stage (live heap after GC) | bytes per check |\n|---|---:|');
  for (const row of up) console.log(`| ${row.item} | ${per(row.bytes)} |`);
  console.log(`| **idle check** (loaded and scheduled, no run) | **${per(up.slice(0, 5).reduce((a, r) => a + r.bytes, 0))}** |`);
  console.log(`| **check with history** | **${per(up.reduce((a, r) => a + r.bytes, 0))}** |`);
  console.log('\n| part (retained, taken away after the runs) | bytes per check |\n|---|---:|');
  for (const row of down) console.log(`| ${row.item} | ${per(row.bytes)} |`);
  return 0;
});
