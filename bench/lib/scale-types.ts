import type { Build } from './build.js';
import type { ScaleKind } from './checks-file.js';
import type { Knot } from './knot.js';
import type { Nginx } from './nginx.js';
import type { RawResult } from './raw-run.js';

/** The scale scenario's options and results (scale-scenario.ts runs it, scale-table.ts prints it). */
export interface ScaleOptions {
  dir: string;
  build: Build;
  nginx: Nginx;
  knot: Knot;
  counts: number[];
  intervalSeconds: number;
  /** After start: the early first runs (within 30 s) and JIT warm-up are not measured. */
  warmupSeconds: number;
  windowSeconds: number;
  /** A Prometheus-like scrape of /metrics this often during the window (0: none). */
  scrapeEverySeconds: number;
  concurrency: number;
  /** Run threads of the daemon (serve --run-threads). */
  runThreads: number;
  /** Extra node flags for the daemon process (say, a heap limit). */
  nodeFlags: string[];
  /** The kinds of checks, in turn (default http, dns, tcp). */
  mix?: readonly ScaleKind[];
  log: (line: string) => void;
}

export interface ScaleResult {
  checks: number;
  windowSeconds: number;
  idealRunsPerSecond: number;
  runsPerSecond: number;
  /** achieved / ideal. */
  runsShare: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  cpuSecondsPer1000Runs: number;
  /** V8 heap bytes allocated per finished run over the window, KB: the daemon's thread and the run threads (scrapes included, when there are any). */
  allocKbPerRun: { main: number; threads: number };
  /** Of that, KB per run young-generation GCs moved to the old space (what outlived two of them: kept state, or garbage held too long). */
  promotedKbPerRun: { main: number; threads: number };
  /** CPU of the daemon over the window, in cores (1 = one core busy). */
  cpuCores: number;
  /** RSS in the window: the median of the 1-s samples (steady), their max, and the process's peak from start to the end of the window (VmHWM). */
  rssMedianMb: number;
  rssMaxMb: number;
  peakRssMb: number;
  /** The peak after the bench's one-string renders of the whole text (which GET /metrics never makes). */
  peakRssAfterRenderMb: number;
  /** The peak (VmHWM) when the checks were loaded, and at the end of the warm-up (first runs). */
  peakRssLoadMb: number;
  peakRssWarmupMb: number;
  /** Live heap per check (after a full GC, over the heap before the checks were loaded): loaded and scheduled before any run, and at the end. */
  heapPerCheckIdle: number;
  heapPerCheckRuns: number;
  /** Runs each check had made by the end, about (the first run, then one per interval). */
  runsPerCheck: number;
  /** Steady RSS over the RSS before the checks were loaded, per check. */
  rssPerCheck: number;
  heapUsedMb: number;
  renderMs: number;
  renderMaxMs: number;
  /** CPU time of one render: what an idle machine's wall time would be, roughly. */
  renderCpuMs: number;
  /** GET /metrics's own event-loop time: the streamed pieces together, and the longest piece. */
  streamBusyMs: number;
  streamLongestMs: number;
  /** Heap after a full GC at the end (results history included). */
  heapAfterGcMb: number;
  /** calibrate(): how much slower than idle one core was, measured before the window. */
  slowdown: number;
  /** GET /metrics as a scraper sees it (request to last byte), median of the scrapes. */
  scrapeMs: number;
  metricsBytes: number;
  metricsLines: number;
  /** Scheduled runs in flight (cap: --concurrency), sampled every 10 ms. */
  inFlightP99: number;
  atCapShare: number;
  runP50Ms: Record<string, number>;
  runP99Ms: Record<string, number>;
  gc: { count: number; totalMs: number; maxMs: number; over50ms: number; majorMaxMs: number };
  /** Event-loop blocks over 50 ms: when (s into the window), how long, and the daemon's CPU time over it (busy) or not (starved by other processes). */
  blocks: { atSeconds: number; ms: number; cpuMs: number }[];
  /** The longest block in which the daemon itself was busy (CPU time >= half the block). */
  longestBusyBlockMs: number;
  /** When the scrapes started (s into the window). */
  scrapesAt: number[];
  unhandled: number;
  /** Failed runs since start by reason (driftwatch_check_failures_total at the end). */
  failures: Record<string, number>;
  loadStart: number;
  loadEnd: number;
  /** An all-http mix: the bare client at the same rate (runPacedAnchor). */
  anchor?: RawResult;
}
