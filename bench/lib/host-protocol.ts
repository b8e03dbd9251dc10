/** The IPC messages between a benchmark and daemon-host.ts (the instrumented daemon process). */

/** gc needs the process started with --expose-gc; it then answers stats after a full collection. */
export type HostCall = { op: 'reset' } | { op: 'stats' } | { op: 'gc' } | { op: 'render'; rounds: number };
export type HostRequest = HostCall & { id: number };

export interface HostStats {
  uptimeSeconds: number;
  /** Scheduled runs started since the last reset (each reports its lag once). */
  runsStarted: number;
  /** Runs (scheduled and on-demand) recorded since the last reset, by check type. */
  runsFinished: Record<string, number>;
  /** Scheduler lag since the last reset, seconds. */
  lag: { count: number; p50: number; p99: number; max: number };
  /** perf_hooks.monitorEventLoopDelay since the last reset, milliseconds. */
  eventLoopDelay: { p50: number; p99: number; max: number; mean: number };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  /** v8.getHeapSpaceStatistics(), bytes: resident (committed) and used per space. */
  heapSpaces: Record<string, { committed: number; used: number }>;
  /** process.getActiveResourcesInfo(), counted by kind. */
  resources: Record<string, number>;
  inFlight: number;
  /** Scheduled runs in flight, sampled every 10 ms since the last reset: at the cap, runs queue and start late. */
  inFlightP99: number;
  inFlightMax: number;
  /** Share of the samples at the concurrency cap. */
  atCapShare: number;
  /** Run durations since the last reset, seconds, by check type. */
  runDuration: Record<string, { p50: number; p99: number }>;
  /** GC pauses since the last reset (PerformanceObserver 'gc'), milliseconds. */
  gc: { count: number; totalMs: number; maxMs: number; over50ms: number; majorMaxMs: number };
  /** Event-loop blocks over 50 ms since the last reset: when (s since reset), how long, and the process CPU time over it. */
  blocks: { atSeconds: number; ms: number; cpuMs: number }[];
  unhandledRejections: number;
  /** Live heap (after a full GC) and RSS just before the checks were loaded and just after, before the first run (with --expose-gc). */
  loaded?: { heapBefore: number; heapAfter: number; rssBefore: number; rssAfter: number };
}

export interface RenderTiming {
  /** renderMetrics() plus Buffer.byteLength (which flattens the string as writing it would), per round. */
  ms: number[];
  /** Process CPU time of the same rounds (wall time also counts waiting for a busy CPU). */
  cpuMs: number[];
  /**
   * The per-check families as GET /metrics sends them (series.renderChunks(), a turn of the event
   * loop between pieces), per round: the event-loop time of all pieces together, and the longest.
   */
  streamBusyMs: number[];
  streamLongestMs: number[];
  bytes: number;
  lines: number;
}

export type HostMessage =
  | { type: 'ready'; port: number; checks: number }
  | { type: 'reply'; id: number; data: HostStats | RenderTiming | null }
  | { type: 'unhandled'; message: string };
