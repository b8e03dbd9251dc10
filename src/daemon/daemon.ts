import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { ServedDaemon } from '../api/served-daemon.js';
import type { Services } from '../checks/check-type.js';
import type { CheckSpec, LoadedCheck } from '../checks/registry.js';
import type { Result } from '../results/result.js';
import { blockedRun } from '../gate/blocked.js';
import { createDaemonMetrics, type DaemonMetrics } from '../metrics/daemon-metrics.js';
import { renderMetrics, streamMetrics } from '../metrics/exposition.js';
import { createSeriesStore, type SeriesStore } from '../metrics/series-store.js';
import { createRunThreads, type RunThreads } from '../runner/run-threads.js';
import { createServices } from '../runner/services.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import { createStateStore, type StateStore } from '../state/state-store.js';
import { createOnDemandRuns, scheduledRunOf, trackScheduledRun, untrackScheduledRun, type ScheduledRuns } from './on-demand.js';
import { createRecorder, type Recorder } from './recorder.js';
import { createLoader } from './reload.js';
import { createDaemonWindows, withWindows } from './windows.js';
import type { WindowStore } from '../state/windows.js';

export interface DaemonOptions {
  checkPaths: readonly string[];
  log: Logger;
  release?: string | undefined;
  location?: string | undefined;
  shard?: { index: number; count: number } | undefined;
  /** Scheduled runs at once. */
  concurrency?: number;
  /** On-demand runs (/probe, POST run) at once (default 64); a quarter of them for one check and target. */
  probeConcurrency?: number;
  /** Worker threads that run checks (default 0: every run on the daemon's thread); see runner/run-threads.ts. */
  runThreads?: number;
  /** How often a check that keeps failing is repeated in the log (default FAILURE_REPEAT_MS), and the clock for it. */
  failureLog?: { repeatMs?: number; now?: () => number };
}

/** Defaults of the on-demand limit; see createConcurrencyLimit and docs/blackbox.md. */
export const DEFAULT_PROBE_CONCURRENCY = 64;

/** The daemon: what the API serves (api/served-daemon.ts), and its own life cycle. */
export interface Daemon extends ServedDaemon {
  readonly state: StateStore<LoadedCheck>;
  /** Deploy windows: in memory, kept over reloads, forgotten on restart. */
  readonly windows: WindowStore;
  readonly metrics: DaemonMetrics;
  readonly series: SeriesStore;
  readonly scheduler: Scheduler;
  /** Where runs execute (worker threads, or none). */
  readonly runThreads: RunThreads;
  /** First load; throws ConfigError when the files are invalid (the daemon does not start). */
  load(): Promise<number>;
  start(): void;
  stop(graceMs: number): Promise<void>;
  renderMetrics(): Promise<string>;
}

/**
 * Wires config, scheduler, runner, state and metrics; the API and CLI sit on top of this. The
 * parts: recording a finished run (recorder.ts), loading and reloading the checks (reload.ts),
 * runs on demand (on-demand.ts), and the scheduled runs below.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { log } = options;
  const known = { current: new Map<string, CheckSpec>() };
  const services = createServices({ release: options.release, lookupCheck: (name) => known.current.get(name) });
  const state = createStateStore<LoadedCheck>();
  const metrics = createDaemonMetrics(new Registry(), { location: options.location });
  const series = createSeriesStore({ location: options.location });
  const threads = createRunThreads({ count: options.runThreads ?? 0, services, log });
  // Deploy windows live beside the state, not in the loader: a reload keeps them.
  const windows = createDaemonWindows({ state, metrics, log });
  // Scheduled runs in flight, for a gate to join (on-demand.ts).
  const scheduledRuns: ScheduledRuns = new Map();
  const recorder = withWindows(forgetting(createRecorder({ log, state, series, metrics, failureLog: options.failureLog }), threads, scheduledRuns), windows);
  const scheduler = scheduleRuns({ concurrency: options.concurrency ?? 64, log, state, services, recorder, metrics, threads, scheduledRuns });
  const loader = createLoader({ checkPaths: options.checkPaths, shard: options.shard, log, services, known, state, series, scheduler, metrics, recorder });
  const runNow = createOnDemandRuns({ state, services, recorder, threads, slots: options.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY, scheduledRun: (check) => scheduledRunOf(scheduledRuns, check) });
  return {
    state,
    windows,
    metrics,
    series,
    scheduler,
    runThreads: threads,
    get lastReload() {
      return loader.lastReload;
    },
    async load() {
      const count = await loader.load();
      // Before the scheduler starts: the first runs should not wait for a thread to load its code.
      await threads.warm();
      return count;
    },
    reload: () => loader.reload(),
    start() {
      scheduler.start();
    },
    async stop(graceMs) {
      await scheduler.stop(graceMs);
      windows.stop();
      await threads.close();
    },
    runNow,
    renderMetrics: () => renderMetrics(metrics, series),
    streamMetrics: () => streamMetrics(metrics, series),
    isReady: () => loader.loaded && scheduler.running,
  };
}

interface ScheduledRunOptions {
  concurrency: number;
  log: Logger;
  state: StateStore<LoadedCheck>;
  services: Services;
  recorder: Recorder;
  metrics: DaemonMetrics;
  threads: RunThreads;
  scheduledRuns: ScheduledRuns;
}

/** The latest result of a check that fails or is blocked, which is all that blocks a dependent check: read only then. */
function failedResult(state: StateStore<LoadedCheck>, name: string): Result | undefined {
  const entry = state.get(name);
  return entry?.lastState === 'failing' || entry?.lastState === 'blocked' ? entry.last : undefined;
}

/**
 * The scheduler of the daemon's checks. A check whose dependency's latest result fails is
 * recorded blocked instead of run; a run of a check that a reload replaced meanwhile is dropped.
 */
function scheduleRuns(options: ScheduledRunOptions): Scheduler {
  const { state, recorder } = options;
  const latestFailed = (name: string) => failedResult(state, name);
  return createScheduler({
    concurrency: options.concurrency,
    log: options.log,
    onLag: (seconds) => {
      options.metrics.schedulerLag.observe(seconds);
    },
    onSkip: (check) => {
      recorder.loggerFor(check).info('previous run still going: slot skipped');
    },
    execute: async (check, signal) => {
      let run = blockedRun(check, latestFailed);
      if (run === undefined) {
        const running = options.threads.run(check, check.bound, { log: recorder.loggerFor(check), services: options.services, signal, failureLevel: 'debug' });
        const held = trackScheduledRun(options.scheduledRuns, check, running);
        try {
          run = await running;
        } finally {
          untrackScheduledRun(options.scheduledRuns, held);
        }
      }
      if (state.get(check.spec.name)?.check === check) recorder.record(check, run);
    },
  });
}

/** A check a reload removed is forgotten by the run threads too (they keep the checks they ran), and by the scheduled runs. */
function forgetting(recorder: Recorder, threads: RunThreads, scheduledRuns: ScheduledRuns): Recorder {
  return {
    ...recorder,
    forget(name) {
      recorder.forget(name);
      threads.forget(name);
      scheduledRuns.delete(name);
    },
  };
}
