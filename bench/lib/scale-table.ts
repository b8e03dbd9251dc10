import type { ScaleOptions, ScaleResult } from './scale-types.js';
import { MB } from './proc.js';
import { fixed } from './stats.js';
import { markdownTable } from './table.js';

/** The scale scenario's two tables (runs, memory) under a title that says the workload. */
export function scaleTable(results: ScaleResult[], options: ScaleOptions): string {
  const runs = results.map((r) => [
    String(r.checks),
    `${fixed(r.runsPerSecond, 2)} / ${fixed(r.idealRunsPerSecond, 2)}`,
    `${fixed(r.runsShare * 100, 2)}%`,
    fixed(r.lagP50Ms, 1),
    fixed(r.lagP99Ms, 1),
    fixed(r.lagMaxMs, 0),
    fixed(r.eventLoopP99Ms, 1),
    fixed(r.cpuCores * 100, 1),
    fixed(r.cpuSecondsPer1000Runs, 3),
    `${fixed(r.allocKbPerRun.main, 1)} / ${fixed(r.allocKbPerRun.threads, 1)}`,
    `${fixed(r.promotedKbPerRun.main, 2)} / ${fixed(r.promotedKbPerRun.threads, 2)}`,
    Object.entries(r.failures).map(([reason, n]) => `${reason} ${n}`).join(', ') || '0',
    `${fixed(r.loadStart, 1)}-${fixed(r.loadEnd, 1)}`,
    `${fixed(r.slowdown, 1)}x`,
  ]);
  const memory = results.map((r) => [
    String(r.checks),
    `${fixed(r.rssMedianMb, 0)} / ${fixed(r.rssMaxMb, 0)} / ${fixed(r.peakRssMb, 0)} (${fixed(r.peakRssLoadMb, 0)} at load)`,
    fixed(r.heapAfterGcMb, 0),
    `${r.heapPerCheckIdle} / ${r.heapPerCheckRuns} (${r.runsPerCheck} runs)`,
    String(r.rssPerCheck),
    fixed(r.metricsBytes / MB, 1),
    `${fixed(r.renderMs, 0)} (${fixed(r.renderCpuMs, 0)})`,
    `${fixed(r.streamBusyMs, 0)} / ${fixed(r.streamLongestMs, 1)}`,
    fixed(r.scrapeMs, 0),
  ]);
  const threads = options.runThreads > 0 ? `, ${options.runThreads} run thread${options.runThreads > 1 ? 's' : ''}` : '';
  const flags = `${threads}${options.nodeFlags.length > 0 ? `, node ${options.nodeFlags.join(' ')}` : ''}`;
  const kinds = options.mix === undefined ? 'a third each http, tcp, dns' : options.mix.length === 1 ? `all ${options.mix[0] ?? ''}` : `${options.mix.join(', ')} in turn`;
  const title = `Scheduled checks (${kinds} on loopback): ${options.intervalSeconds} s interval, ${options.windowSeconds} s window after ${options.warmupSeconds} s warm-up, /metrics scraped every ${options.scrapeEverySeconds} s${flags}`;
  const runsTable = markdownTable(['checks', 'runs/s (ideal)', 'achieved', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'loop p99 ms', 'CPU %', 'CPU s/1k runs', 'KB alloc/run (main / run threads)', 'KB promoted/run (main / run threads)', 'failed runs', 'load', 'slowdown'], runs);
  const memoryTable = markdownTable(['checks', 'RSS MB (steady / max / peak)', 'heap after GC MB', 'heap per check B (idle / after runs)', 'RSS per check B', '/metrics MB', 'render ms (CPU)', 'streamed ms (longest piece)', 'scrape ms'], memory);
  return `${title}\n\n${runsTable}\n\n${memoryTable}`;
}
