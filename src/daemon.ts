import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createConcurrencyLimit, SlotWaitAborted } from './concurrency-limit.js';
import { loadChecks, type LoadedCheck } from './config/load.js';
import { formatDuration } from './config/duration.js';
import { ConfigError, formatProblem } from './config/problem.js';
import { CheckNotFoundError } from './daemon-errors.js';
import { blockedRun } from './gate/blocked.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics/daemon-metrics.js';
import { renderMetrics, streamMetrics } from './metrics/exposition.js';
import { createSeriesStore, type SeriesStore } from './metrics/series-store.js';
import { createOutcomeLog } from './outcome-log.js';
import { failedRun, runCheck, type Run } from './runner.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createServices, prepareServices } from './services.js';
import { selectShard } from './shard.js';
import { createStateStore, type StateStore } from './state.js';
import { retarget } from './target.js';

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
  /** How often a check that keeps failing is repeated in the log (default FAILURE_REPEAT_MS), and the clock for it. */
  failureLog?: { repeatMs?: number; now?: () => number };
}

/** Defaults of the on-demand limit; see createConcurrencyLimit and docs/blackbox.md. */
export const DEFAULT_PROBE_CONCURRENCY = 64;

export interface RunNowOptions {
  debug?: boolean;
  target?: string | undefined;
  /** Read `target` as a blackbox module's prober would (/probe?module=). */
  targetAs?: 'check' | 'module';
  /** At most this long, waiting for a slot included (a Prometheus scrape's timeout less its margin). */
  timeoutMs?: number | undefined;
  /** The caller went away: stop waiting or running, free the slot, record nothing. */
  signal?: AbortSignal | undefined;
}

/** An on-demand run and the time limit it ran under (probe_timeout_seconds). */
export interface OnDemandRun extends Run {
  timeoutMs: number;
}

export interface ReloadOutcome {
  ok: boolean;
  checks: number;
  problems: string[];
  at: string;
}

export interface Daemon {
  readonly state: StateStore;
  readonly metrics: DaemonMetrics;
  readonly series: SeriesStore;
  readonly scheduler: Scheduler;
  readonly lastReload: ReloadOutcome | undefined;
  /** First load; throws ConfigError when the files are invalid (the daemon does not start). */
  load(): Promise<number>;
  /** Later loads (SIGHUP, POST /-/reload): an invalid file keeps the old checks running. */
  reload(): Promise<ReloadOutcome>;
  start(): void;
  stop(graceMs: number): Promise<void>;
  runNow(name: string, options?: RunNowOptions): Promise<OnDemandRun>;
  renderMetrics(): Promise<string>;
  /** renderMetrics() in pieces, yielding to the event loop between them (GET /metrics). */
  streamMetrics(): AsyncIterable<string>;
  isReady(): boolean;
}

/** Wires config, scheduler, runner, state and metrics; the API and CLI sit on top of this. */
export function createDaemon(options: DaemonOptions): Daemon {
  const { log } = options;
  // Every loaded check by name, before sharding: a check may refer to one another shard runs.
  let byName = new Map<string, LoadedCheck['spec']>();
  const services = createServices({ release: options.release, lookupCheck: (name) => byName.get(name) });
  const state = createStateStore();
  const metrics = createDaemonMetrics(new Registry(), { location: options.location });
  const series = createSeriesStore({ location: options.location });
  const probeSlots = options.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY;
  const onDemand = createConcurrencyLimit(probeSlots, probeSlots * 16, Math.ceil(probeSlots / 4));
  const loggers = new Map<string, Logger>();
  const outcomes = createOutcomeLog(options.failureLog?.repeatMs, options.failureLog?.now);
  let lastReload: ReloadOutcome | undefined;
  let loaded = false;
  let reloading: Promise<ReloadOutcome> = Promise.resolve({ ok: true, checks: 0, problems: [], at: '' });

  const loggerFor = (check: LoadedCheck): Logger => {
    let child = loggers.get(check.spec.name);
    if (!child) {
      child = log.child({ check: check.spec.name, type: check.spec.type });
      loggers.set(check.spec.name, child);
    }
    return child;
  };

  const record = (check: LoadedCheck, run: Run): void => {
    // The step-by-step record belongs to the caller who asked for it, not to the history.
    const { steps: _steps, ...result } = run.result;
    const changed = state.record(result);
    const entry = state.get(check.spec.name);
    outcomes.note(loggerFor(check), run.result, { changed, since: entry?.changedAt, runs: entry?.streak ?? 1 });
    series.record(check.spec, run);
    if (!run.result.blocked) metrics.observeRun(check.spec.type, run.result.durationMs / 1000);
  };

  const scheduler = createScheduler({
    concurrency: options.concurrency ?? 64,
    log,
    onLag: (seconds) => {
      metrics.schedulerLag.observe(seconds);
    },
    onSkip: (check) => {
      loggerFor(check).info('previous run still going: slot skipped');
    },
    execute: async (check, signal) => {
      const run = blockedRun(check.spec, (name) => state.get(name)?.last) ?? (await runCheck(check.bound, { log: loggerFor(check), services, signal, failureLevel: 'debug' }));
      if (state.get(check.spec.name)?.check === check) record(check, run);
    },
  });

  const apply = (checks: LoadedCheck[]): void => {
    byName = new Map(checks.map((c) => [c.spec.name, c.spec]));
    const selected = options.shard ? selectShard(checks, options.shard) : checks;
    const names = new Set(selected.map((c) => c.spec.name));
    for (const entry of state.all()) {
      if (!names.has(entry.check.spec.name)) {
        series.remove(entry.check.spec.name);
        loggers.delete(entry.check.spec.name);
        outcomes.forget(entry.check.spec.name);
      }
    }
    const before = new Set(state.all().map((entry) => entry.check));
    // Unchanged checks keep their objects, so runs in flight of them are still recorded.
    const held = state.set(selected);
    // An unchanged check's series are declared already, from the same spec (10,000 re-renders per reload saved).
    for (const check of held) if (!before.has(check)) series.declare(check.spec);
    scheduler.update(held);
    metrics.checks.set(held.length);
  };

  const doReload = async (): Promise<ReloadOutcome> => {
    const at = new Date().toISOString();
    try {
      const checks = await loadChecks(options.checkPaths);
      await prepareServices(services, checks.map((c) => c.spec));
      apply(checks);
      metrics.configReloadSuccessful.set(1);
      lastReload = { ok: true, checks: state.all().length, problems: [], at };
      log.info({ checks: lastReload.checks }, 'checks reloaded');
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [err instanceof Error ? err.message : String(err)];
      metrics.configReloadSuccessful.set(0);
      lastReload = { ok: false, checks: state.all().length, problems, at };
      log.error({ problems }, 'reload failed: invalid check files, keeping the previous checks');
    }
    return lastReload;
  };

  return {
    state,
    metrics,
    series,
    scheduler,
    get lastReload() {
      return lastReload;
    },
    async load() {
      const checks = await loadChecks(options.checkPaths);
      await prepareServices(services, checks.map((c) => c.spec));
      apply(checks);
      metrics.configReloadSuccessful.set(1);
      lastReload = { ok: true, checks: state.all().length, problems: [], at: new Date().toISOString() };
      loaded = true;
      return lastReload.checks;
    },
    reload() {
      reloading = reloading.then(doReload, doReload);
      return reloading;
    },
    start() {
      scheduler.start();
    },
    async stop(graceMs) {
      await scheduler.stop(graceMs);
    },
    async runNow(name, runOptions = {}) {
      const entry = state.get(name);
      if (!entry) throw new CheckNotFoundError(name);
      const { check } = entry;
      const bound = runOptions.target === undefined ? check.bound : retarget(check.bound, runOptions.target, runOptions.targetAs);
      const startedAt = new Date();
      const timeoutMs = Math.min(bound.spec.timeout, runOptions.timeoutMs ?? bound.spec.timeout);
      const deadline = new AbortController();
      const timer = setTimeout(() => {
        deadline.abort(new Error('deadline'));
      }, timeoutMs);
      const caller = runOptions.signal;
      const waitSignal = caller ? AbortSignal.any([caller, deadline.signal]) : deadline.signal;
      const log = loggerFor(check);
      try {
        // The task starts inside run() when a slot is free at once, later when it had to wait.
        let queued = false;
        let waitedMs = 0;
        const pending = onDemand.run(
          async () => {
            waitedMs = queued ? Date.now() - startedAt.getTime() : 0;
            return runCheck(bound, { log, services, debug: runOptions.debug ?? false, timeoutMs: Math.max(1, timeoutMs - waitedMs), signal: caller, failureLevel: 'debug' });
          },
          { key: `${check.spec.name} ${bound.target ?? ''}`, signal: waitSignal },
        );
        queued = true;
        const run = await pending;
        // The wait was part of the run's time: a timeout says how much of it went there.
        if (run.result.reason === 'timeout' && waitedMs > 0) {
          run.result.message = `timeout after ${formatDuration(timeoutMs)}, ${formatDuration(waitedMs)} of it waiting for an on-demand slot`;
        }
        // A retargeted run observed something else than the check, and a run whose caller left
        // was cut short by it: neither touches the check's state.
        if (bound === check.bound && !caller?.aborted && state.get(name)?.check === check) record(check, run);
        return { ...run, timeoutMs };
      } catch (err) {
        if (!(err instanceof SlotWaitAborted) || caller?.aborted) throw err;
        const message = `timeout after ${formatDuration(timeoutMs)} waiting for an on-demand slot: ${err.message}`;
        return { ...failedRun(bound, { reason: 'timeout', message }, startedAt, services.redactions, log), timeoutMs };
      } finally {
        clearTimeout(timer);
      }
    },
    renderMetrics: () => renderMetrics(metrics, series),
    streamMetrics: () => streamMetrics(metrics, series),
    isReady: () => loaded && scheduler.running,
  };
}
