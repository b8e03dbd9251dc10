/**
 * The daemon as `driftwatch serve` composes it (src/commands/serve.ts: createLogger, createDaemon,
 * load, buildApi, listen, start), plus a debug hook over IPC that reports what only the process
 * itself can see: scheduler lag per run, event-loop delay, active handles, unhandled rejections.
 * Compiled by build.ts and started by daemon-process.ts; never imported by the daemon itself.
 *
 * Args: --checks FILE --port PORT [--concurrency N] [--probe-concurrency N] [--run-threads N] [--log-level L]
 */
import { constants, createHistogram, PerformanceObserver, type RecordableHistogram } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { buildApi } from '../../src/api/server.js';
import { tuneHeapForService } from '../../src/commands/heap-tuning.js';
import { createDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/results/log.js';
import type { HostMessage, HostRequest, HostStats, RenderTiming } from './host-protocol.js';

const { values } = parseArgs({
  options: {
    checks: { type: 'string' },
    port: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'probe-concurrency': { type: 'string', default: '8' },
    'run-threads': { type: 'string', default: '0' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const send = (message: HostMessage): void => {
  if (process.connected) process.send?.(message);
};

let unhandled = 0;
process.on('unhandledRejection', (reason) => {
  unhandled++;
  const message = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
  process.stderr.write(`UNHANDLED REJECTION: ${message}\n`);
  send({ type: 'unhandled', message });
});

const level = values['log-level'] as 'info';
const log = createLogger(level);
// The V8 settings `serve` applies (src/commands/heap-tuning.ts): the bench measures the daemon as served.
const heap = tuneHeapForService();
const daemon = createDaemon({
  checkPaths: [values.checks ?? 'checks'],
  log,
  concurrency: Number(values.concurrency),
  probeConcurrency: Number(values['probe-concurrency']),
  runThreads: Number(values['run-threads']),
});

// Instrumentation: wrap the two daemon metrics every run passes through. Bounded memory (HDR
// histograms), so a soak does not mistake the instrumentation for a leak.
const lag = createHistogram();
let runsStarted = 0;
const lagMetric = daemon.metrics.schedulerLag;
const observeLag = lagMetric.observe.bind(lagMetric) as (seconds: number) => void;
Object.assign(lagMetric, {
  observe: (seconds: number) => {
    runsStarted++;
    lag.record(Math.max(1, Math.round(seconds * 1e6)));
    observeLag(seconds);
  },
});
let runsFinished: Record<string, number> = {};
const durations = new Map<string, RecordableHistogram>();
const metrics = daemon.metrics;
const observeRun = metrics.observeRun.bind(metrics);
metrics.observeRun = (type, seconds) => {
  runsFinished[type] = (runsFinished[type] ?? 0) + 1;
  let histogram = durations.get(type);
  if (!histogram) durations.set(type, (histogram = createHistogram()));
  histogram.record(Math.max(1, Math.round(seconds * 1e6)));
  observeRun(type, seconds);
};
const concurrency = Number(values.concurrency);
const inFlight = createHistogram();
let atCap = 0;
let gc = { count: 0, totalMs: 0, maxMs: 0, over50ms: 0, majorMaxMs: 0 };
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (entry.duration > 50) gc.over50ms++;
    const detail: unknown = 'detail' in entry ? entry.detail : undefined;
    const kind = typeof detail === 'object' && detail !== null && 'kind' in detail ? detail.kind : undefined;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.majorMaxMs = Math.max(gc.majorMaxMs, entry.duration);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
/**
 * The host's own instruments on one 10 ms timer: they wake the daemon's thread under test 100
 * times a second rather than 250 (they were three timers, 10, 10 and 20 ms), which the
 * bare-client anchor does not pay at all (an A/B of the two forms, four pairs at 500 runs a
 * second, could not tell them apart on this VM's noise). Each tick samples
 * the runs in flight, records how long the tick took to come (what perf_hooks'
 * monitorEventLoopDelay records at a resolution of 10 ms: the interval, late ticks longer), and
 * calls a tick over 50 ms late a block, with the process's CPU time over it telling the daemon's
 * own work (busy) from waiting for a core the machine's other processes hold (starved).
 */
const TICK_MS = 10;
const loop = createHistogram();
let resetAt = performance.now();
const traceBlocks = process.execArgv.includes('--trace-gc');
let blocks: { atSeconds: number; ms: number; cpuMs: number }[] = [];
let lastTick = performance.now();
let lastCpu = process.cpuUsage();
const ticker = setInterval(() => {
  const active = daemon.scheduler.inFlight;
  inFlight.record(active + 1);
  if (active >= concurrency) atCap++;
  const now = performance.now();
  loop.record(Math.max(1, Math.round((now - lastTick) * 1e6)));
  const late = now - lastTick - TICK_MS;
  const cpu = process.cpuUsage();
  if (late > 50) {
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    if (blocks.length < 500) blocks.push({ atSeconds: Math.round((lastTick - resetAt) / 100) / 10, ms: Math.round(late), cpuMs: Math.round(cpuMs) });
    // With --trace-gc, the same clock as its lines (ms since the process started).
    if (traceBlocks) process.stderr.write(`block at ${Math.round(lastTick)} ms: ${Math.round(late)} ms late, ${Math.round(cpuMs)} ms of CPU\n`);
  }
  lastTick = now;
  lastCpu = cpu;
}, TICK_MS);

/** The live heap after a full GC (with --expose-gc; heapUsed as it is without). */
const liveMemory = (): { heap: number; rss: number } => {
  (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  return { heap: memory.heapUsed, rss: memory.rss };
};
// What the checks cost loaded and scheduled, before any run: the idle check's memory.
const before = liveMemory();
const checks = await daemon.load();
heap.watch();
const after = liveMemory();
const loaded = { heapBefore: before.heap, heapAfter: after.heap, rssBefore: before.rss, rssAfter: after.rss };
// DRIFTWATCH_BENCH_PROFILE=FILE: a CPU profile of the main thread from here to shutdown (the
// --cpu-prof flag writes only at a natural exit, which a stopped host does not always reach).
const profileFile = process.env.DRIFTWATCH_BENCH_PROFILE;
const profiler = profileFile ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
// DRIFTWATCH_BENCH_HEAP_PROFILE=FILE: where the main thread allocates (sampled), from the
// measured window's start to shutdown. DRIFTWATCH_BENCH_HEAP_KEEP says which objects the profile
// keeps: all (default: collected ones too), promoted (what outlived the young generation: the
// old space's intake, collected or not) or live (only what is still alive at the end).
const heapProfileFile = process.env.DRIFTWATCH_BENCH_HEAP_PROFILE;
const heapProfiler = heapProfileFile ? new Session() : undefined;
const heapKeep = process.env.DRIFTWATCH_BENCH_HEAP_KEEP ?? 'all';
let heapProfileStarted = false;
if (heapProfiler) {
  heapProfiler.connect();
  await heapProfiler.post('HeapProfiler.enable');
}
const startHeapProfile = async () => {
  if (!heapProfiler) return;
  await heapProfiler.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: heapKeep !== 'live',
    includeObjectsCollectedByMinorGC: heapKeep === 'all',
  });
};
const api = buildApi({ daemon, log, version: 'bench' });
await api.listen({ host: '127.0.0.1', port: Number(values.port ?? 0) });
daemon.start();
const address = api.server.address();
send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0, checks });

const stats = (): HostStats => {
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  const memory = process.memoryUsage();
  const ms = (ns: number) => ns / 1e6;
  return {
    uptimeSeconds: process.uptime(),
    runsStarted,
    runsFinished,
    lag: { count: lag.count, p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    eventLoopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) },
    memory: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, arrayBuffers: memory.arrayBuffers },
    heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.physical_space_size, used: s.space_used_size }])),
    resources,
    inFlight: daemon.scheduler.inFlight,
    inFlightP99: inFlight.count === 0 ? 0 : inFlight.percentile(99) - 1,
    inFlightMax: inFlight.count === 0 ? 0 : inFlight.max - 1,
    atCapShare: inFlight.count === 0 ? 0 : atCap / inFlight.count,
    runDuration: Object.fromEntries([...durations].map(([type, h]) => [type, { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6 }])),
    gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs), majorMaxMs: Math.round(gc.majorMaxMs) },
    blocks,
    unhandledRejections: unhandled,
    loaded,
  };
};

const render = async (rounds: number): Promise<RenderTiming> => {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  const streamBusyMs: number[] = [];
  const streamLongestMs: number[] = [];
  let text = '';
  // The benchmark waits 60 s for the answer: no new round after 30 s (a busy daemon at 100,000 checks takes seconds per round).
  const until = performance.now() + 30_000;
  for (let i = 0; i < rounds && (i === 0 || performance.now() < until); i++) {
    const t0 = performance.now();
    const cpu = process.cpuUsage();
    text = await daemon.renderMetrics();
    Buffer.byteLength(text);
    const spent = process.cpuUsage(cpu);
    ms.push(performance.now() - t0);
    cpuMs.push((spent.user + spent.system) / 1000);
    let busy = 0;
    let longest = 0;
    const pieces = daemon.series.renderChunks();
    for (;;) {
      const start = performance.now();
      const next = pieces.next();
      if (!next.done) Buffer.byteLength(next.value);
      const took = performance.now() - start;
      busy += took;
      longest = Math.max(longest, took);
      if (next.done) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    streamBusyMs.push(busy);
    streamLongestMs.push(longest);
  }
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
  return { ms, cpuMs, streamBusyMs, streamLongestMs, bytes: Buffer.byteLength(text), lines };
};

process.on('message', (request: HostRequest) => {
  void (async () => {
    switch (request.op) {
      case 'reset':
        lag.reset();
        loop.reset();
        inFlight.reset();
        atCap = 0;
        gc = { count: 0, totalMs: 0, maxMs: 0, over50ms: 0, majorMaxMs: 0 };
        blocks = [];
        resetAt = performance.now();
        if (!heapProfileStarted) {
          heapProfileStarted = true;
          await startHeapProfile();
        }
        for (const histogram of durations.values()) histogram.reset();
        runsStarted = 0;
        runsFinished = {};
        send({ type: 'reply', id: request.id, data: null });
        return;
      case 'stats':
        send({ type: 'reply', id: request.id, data: stats() });
        return;
      case 'gc':
        (globalThis as { gc?: () => void }).gc?.();
        send({ type: 'reply', id: request.id, data: stats() });
        return;
      case 'render':
        send({ type: 'reply', id: request.id, data: await render(request.rounds) });
        return;
    }
  })();
});

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  if (profiler && profileFile) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  if (heapProfiler && heapProfileFile) {
    const { profile } = await heapProfiler.post('HeapProfiler.stopSampling');
    writeFileSync(heapProfileFile, JSON.stringify(profile));
  }
  await daemon.stop(2000);
  await api.close();
  clearInterval(ticker);
  gcObserver.disconnect();
  log.flush();
  if (process.connected) process.disconnect();
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
// The benchmark went away without stopping us: do not outlive it.
process.once('disconnect', () => void shutdown());
