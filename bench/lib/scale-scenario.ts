import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAllocation } from './alloc-meter.js';
import { calibrate } from './calibrate.js';
import { sleep } from './child.js';
import { scaleChecks, writeCheckFolder } from './checks-file.js';
import { startDaemonProcess } from './daemon-process.js';
import type { HostStats, RenderTiming } from './host-protocol.js';
import { loadNow, MB, sampleProcess } from './proc.js';
import { fixed, median, round } from './stats.js';
import { scaleTable } from './scale-table.js';
import type { ScaleOptions, ScaleResult } from './scale-types.js';
import { anchorLine, runPacedAnchor } from './raw-run.js';

/**
 * N scheduled checks (a third each HTTP against nginx, TCP connects to nginx, DNS against Knot) in the instrumented daemon
 * process: after the warm-up, a window of whole intervals, so every check is due exactly
 * window/interval times and the achieved run count can be compared with the ideal one.
 */
export async function runScaleScenario(options: ScaleOptions): Promise<{ results: ScaleResult[]; table: string }> {
  const results: ScaleResult[] = [];
  const anchors: string[] = [];
  for (const count of options.counts) {
    const result = await runOne(options, count);
    results.push(result);
    // All http: the bare client at the same rate, after the daemon has stopped (raw-run.ts).
    if (options.mix?.length !== 1 || options.mix[0] !== 'http') continue;
    const raw = await runPacedAnchor(options.build, options.nginx.url(), result.idealRunsPerSecond, options.windowSeconds);
    result.anchor = raw;
    anchors.push(`${count} checks: ${anchorLine(raw, { cpuUsPerRun: result.cpuSecondsPer1000Runs * 1000, allocKbPerRun: result.allocKbPerRun.main + result.allocKbPerRun.threads })}`);
  }
  const table = scaleTable(results, options);
  return { results, table: anchors.length === 0 ? table : `${table}\n\n${anchors.join('\n')}` };
}

async function runOne(options: ScaleOptions, count: number): Promise<ScaleResult> {
  const { log } = options;
  // A folder of files: one check file may hold at most 8 MiB (about 45,000 of these checks).
  const file = await writeCheckFolder(join(options.dir, `scale-${count}`), scaleChecks(count, options.nginx.url(), options.knot.address, `${options.intervalSeconds}s`, options.nginx.port, options.mix, options.intervalSeconds));
  // The allocation meter rides along as a preload, in the run threads too (alloc-meter.ts).
  const allocReport = join(options.dir, `scale-${count}-alloc.json`);
  // Before the daemon starts, so the calibration does not compete with its first runs.
  const { slowdown } = await calibrate();
  const daemon = await startDaemonProcess(options.build, {
    checksFile: file,
    dir: options.dir,
    name: `driftwatch-scale-${count}`,
    concurrency: options.concurrency,
    runThreads: options.runThreads,
    nodeFlags: ['--expose-gc', '--import', pathToFileURL(join(options.build.out, 'bench/lib/alloc-meter.js')).href, ...options.nodeFlags],
    env: { ...process.env, DRIFTWATCH_ALLOC_REPORT: allocReport },
    // Loading 100,000 checks takes a minute or so on a busy machine.
    startTimeoutMs: Math.max(120_000, count * 3),
  });
  try {
    // The peak so far (VmHWM) is the load's: the daemon reports ready once its checks are in.
    const peakAtLoad = sampleProcess(daemon.child.pid).peakRssBytes;
    log(`scale ${count}: loaded ${daemon.checks} checks (peak RSS ${fixed(peakAtLoad / MB, 0)} MB); warm-up ${options.warmupSeconds} s, then ${options.windowSeconds} s measured (load ${loadNow()})`);
    await sleep(options.warmupSeconds * 1000);
    const peakAtWarmup = sampleProcess(daemon.child.pid).peakRssBytes;
    const loadStart = loadNow();
    await daemon.reset();
    const allocBefore = await readAllocation(daemon.child.pid, allocReport);
    const cpuBefore = sampleProcess(daemon.child.pid).cpuSeconds;
    const started = performance.now();
    const end = started + options.windowSeconds * 1000;
    const rss: number[] = [];
    const scrapes: number[] = [];
    const scrapesAt: number[] = [];
    let nextScrape = started + options.scrapeEverySeconds * 1000;
    let nextReport = started + 30_000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
      rss.push(sampleProcess(daemon.child.pid).rssBytes);
      if (options.scrapeEverySeconds > 0 && performance.now() >= nextScrape && performance.now() < end - 1000) {
        nextScrape += options.scrapeEverySeconds * 1000;
        scrapesAt.push(round((performance.now() - started) / 1000, 1));
        scrapes.push((await scrape(daemon.url('/metrics'))).ms);
      }
      if (performance.now() >= nextReport) {
        nextReport += 30_000;
        const s = await daemon.stats();
        const runs = Object.entries(s.runDuration).map(([type, d]) => `${type} p99 ${fixed(d.p99 * 1000, 0)} ms`).join(', ');
        log(`scale ${count}: ${Math.round((performance.now() - started) / 1000)} s, ${s.runsStarted} runs, lag p99 ${fixed(s.lag.p99 * 1000, 1)} ms, in flight p99 ${s.inFlightP99} (at cap ${fixed(s.atCapShare * 100, 1)}%), ${runs}, loop p99 ${fixed(s.eventLoopDelay.p99, 0)} ms, rss ${fixed(s.memory.rss / MB, 0)} MB (${memoryParts(s)}), load ${loadNow()}`);
      }
    }
    const stats = await daemon.stats();
    const seconds = (performance.now() - started) / 1000;
    const cpu = sampleProcess(daemon.child.pid).cpuSeconds - cpuBefore;
    const allocAfter = await readAllocation(daemon.child.pid, allocReport);
    const loadEnd = loadNow();
    // Before the one-string renders below: those are a measurement of the bench, not what GET /metrics does.
    const peakBeforeRender = sampleProcess(daemon.child.pid).peakRssBytes;
    // A render of 100,000 checks takes seconds while the runs go on: fewer rounds there; a daemon
    // too busy to answer within the host's 60 s gets no render figures rather than no results.
    const render = await daemon.render(count >= 50_000 ? 3 : 7).catch((err: unknown): RenderTiming => {
      log(`scale ${count}: render: ${err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err)}`);
      return { ms: [Number.NaN], cpuMs: [Number.NaN], streamBusyMs: [Number.NaN], streamLongestMs: [Number.NaN], bytes: Number.NaN, lines: Number.NaN };
    });
    const final = await scrape(daemon.url('/metrics'));
    const afterGc = await daemon.statsAfterGc();
    const { loaded } = afterGc;
    const finished = Object.values(stats.runsFinished).reduce((a, b) => a + b, 0);
    const ideal = count / options.intervalSeconds;
    const result: ScaleResult = {
      checks: count,
      windowSeconds: round(seconds, 1),
      idealRunsPerSecond: round(ideal, 2),
      runsPerSecond: round(stats.runsStarted / seconds, 2),
      runsShare: round(stats.runsStarted / (ideal * seconds), 4),
      lagP50Ms: round(stats.lag.p50 * 1000, 2),
      lagP99Ms: round(stats.lag.p99 * 1000, 2),
      lagMaxMs: round(stats.lag.max * 1000, 1),
      eventLoopP99Ms: round(stats.eventLoopDelay.p99, 1),
      eventLoopMaxMs: round(stats.eventLoopDelay.max, 1),
      cpuSecondsPer1000Runs: round((cpu / Math.max(1, finished)) * 1000, 3),
      allocKbPerRun: { main: perRunKb(allocAfter.main - allocBefore.main, finished), threads: perRunKb(allocAfter.threads - allocBefore.threads, finished) },
      promotedKbPerRun: { main: perRunKb(allocAfter.promoted.main - allocBefore.promoted.main, finished, 2), threads: perRunKb(allocAfter.promoted.threads - allocBefore.promoted.threads, finished, 2) },
      cpuCores: round(cpu / seconds, 3),
      rssMedianMb: round(median(rss) / MB, 1),
      rssMaxMb: round(Math.max(...rss) / MB, 1),
      peakRssMb: round(peakBeforeRender / MB, 1),
      peakRssAfterRenderMb: round(sampleProcess(daemon.child.pid).peakRssBytes / MB, 1),
      peakRssLoadMb: round(peakAtLoad / MB, 1),
      peakRssWarmupMb: round(peakAtWarmup / MB, 1),
      heapUsedMb: round(stats.memory.heapUsed / MB, 1),
      renderMs: round(median(render.ms), 1),
      renderMaxMs: round(Math.max(...render.ms), 1),
      renderCpuMs: round(median(render.cpuMs), 1),
      streamBusyMs: round(median(render.streamBusyMs), 1),
      streamLongestMs: round(median(render.streamLongestMs), 2),
      heapAfterGcMb: round(afterGc.memory.heapUsed / MB, 1),
      heapPerCheckIdle: Math.round(((loaded?.heapAfter ?? 0) - (loaded?.heapBefore ?? 0)) / count),
      heapPerCheckRuns: Math.round((afterGc.memory.heapUsed - (loaded?.heapBefore ?? 0)) / count),
      runsPerCheck: 1 + Math.floor((options.warmupSeconds + seconds) / options.intervalSeconds),
      rssPerCheck: Math.round((median(rss) - (loaded?.rssBefore ?? 0)) / count),
      slowdown,
      scrapeMs: round(median([...scrapes, final.ms]), 1),
      metricsBytes: Number.isNaN(render.bytes) ? final.bytes : render.bytes,
      metricsLines: render.lines,
      inFlightP99: stats.inFlightP99,
      atCapShare: round(stats.atCapShare, 4),
      runP50Ms: Object.fromEntries(Object.entries(stats.runDuration).map(([type, d]) => [type, round(d.p50 * 1000, 1)])),
      runP99Ms: Object.fromEntries(Object.entries(stats.runDuration).map(([type, d]) => [type, round(d.p99 * 1000, 1)])),
      gc: stats.gc,
      blocks: stats.blocks,
      longestBusyBlockMs: Math.max(0, ...stats.blocks.filter((b) => b.cpuMs >= b.ms / 2).map((b) => b.ms)),
      scrapesAt,
      unhandled: daemon.unhandled.length,
      failures: failuresIn(final.body),
      loadStart,
      loadEnd,
    };
    log(`scale ${count}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await daemon.stop();
  }
}

async function scrape(url: string): Promise<{ ms: number; bytes: number; body: ArrayBuffer }> {
  const t0 = performance.now();
  const response = await fetch(url);
  const body = await response.arrayBuffer();
  return { ms: performance.now() - t0, bytes: body.byteLength, body };
}

/** Failed runs since start by reason, from driftwatch_check_failures_total (a healthy bench has none). */
function failuresIn(body: ArrayBuffer): Record<string, number> {
  const failures: Record<string, number> = {};
  for (const match of new TextDecoder().decode(body).matchAll(/^driftwatch_check_failures_total\{[^}]*reason="([a-z]+)"\} (\d+)$/gm)) {
    const reason = match[1] ?? '';
    failures[reason] = (failures[reason] ?? 0) + Number(match[2]);
  }
  return failures;
}

/** Where the RSS is: V8 heap committed by space, used heap, buffers outside the heap. */
function memoryParts(s: HostStats): string {
  const spaces = Object.entries(s.heapSpaces)
    .filter(([, space]) => space.committed >= 4 * MB)
    .map(([name, space]) => `${name.replace(/_space$/, '')} ${fixed(space.committed / MB, 0)}/${fixed(space.used / MB, 0)}`);
  return `heap ${fixed(s.memory.heapTotal / MB, 0)} committed, ${fixed(s.memory.heapUsed / MB, 0)} used: ${spaces.join(', ')}; external ${fixed(s.memory.external / MB, 0)}, arrayBuffers ${fixed(s.memory.arrayBuffers / MB, 0)}`;
}

function perRunKb(bytes: number, runs: number, digits = 1): number {
  return round(bytes / Math.max(1, runs) / 1024, digits);
}
