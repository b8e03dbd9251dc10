import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ReloadOutcome } from '../api/served-daemon.js';
import { checkTypes, type CheckSpec, type LoadedCheck } from '../checks/registry.js';
import { loadChecks } from '../config/load.js';
import { ConfigError, formatProblem } from '../config/problem.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { SeriesStore } from '../metrics/series-store.js';
import type { Services } from '../checks/check-type.js';
import { prepareServices } from '../runner/services.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { shardOf } from '../scheduler/shard.js';
import type { StateStore } from '../state/state-store.js';
import type { Recorder } from './recorder.js';

export interface LoaderOptions {
  checkPaths: readonly string[];
  shard?: { index: number; count: number } | undefined;
  log: Logger;
  services: Services;
  /** Every loaded check by name, before sharding (a check may refer to one another shard runs); replaced on each load. */
  known: { current: ReadonlyMap<string, CheckSpec> };
  state: StateStore<LoadedCheck>;
  series: SeriesStore;
  scheduler: Scheduler;
  metrics: DaemonMetrics;
  recorder: Recorder;
}

/** The daemon's checks from its files: the first load at start-up, and every reload after it. */
export interface Loader {
  readonly lastReload: ReloadOutcome | undefined;
  /** The first load succeeded. */
  readonly loaded: boolean;
  /** First load; throws ConfigError when the files are invalid (the daemon does not start). */
  load(): Promise<number>;
  /** Later loads, one at a time: an invalid file keeps the old checks running and says so. */
  reload(): Promise<ReloadOutcome>;
}

/**
 * Checks per step when a loaded set is swapped in: the state, the series and the scheduler are
 * prepared a step at a time with a turn of the event loop between steps (at 100,000 checks the
 * swap in one go held the loop for ~600 ms), and made current in one step.
 */
const APPLY_CHUNK = 2000;

export function createLoader(options: LoaderOptions): Loader {
  const { log, metrics } = options;
  let lastReload: ReloadOutcome | undefined;
  let loaded = false;
  // Loads and reloads one at a time: a swap is prepared in steps, and two must not interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  /** The one path of load and reload: read and validate every file, prepare what the checks need, swap them in. */
  const loadAndApply = async (at: string): Promise<ReloadOutcome> => {
    const checks = await loadChecks(options.checkPaths, checkTypes);
    await prepareServices(options.services, checks.map((c) => c.spec));
    await applyChecks(options, checks);
    metrics.configReloadSuccessful.set(1);
    lastReload = { ok: true, checks: options.state.all().length, problems: [], at };
    return lastReload;
  };

  const reloadOnce = async (): Promise<ReloadOutcome> => {
    const at = new Date().toISOString();
    try {
      const outcome = await loadAndApply(at);
      log.info({ checks: outcome.checks }, 'checks reloaded');
      return outcome;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : [err instanceof Error ? err.message : String(err)];
      metrics.configReloadSuccessful.set(0);
      lastReload = { ok: false, checks: options.state.all().length, problems, at };
      log.error({ problems }, 'reload failed: invalid check files, keeping the previous checks');
      return lastReload;
    }
  };

  return {
    get lastReload() {
      return lastReload;
    },
    get loaded() {
      return loaded;
    },
    async load() {
      const outcome = await oneAtATime(() => loadAndApply(new Date().toISOString()));
      loaded = true;
      return outcome.checks;
    },
    reload: () => oneAtATime(reloadOnce),
  };
}

/**
 * Swaps a loaded set of checks in: this shard's share into the state, the series and the
 * scheduler. Unchanged checks keep their objects, so runs in flight of them are still recorded.
 * Readers (the API, /metrics, dependency lookups) see the old set or the new one, never a mix:
 * what can be prepared is prepared in steps, then the state, the series and the known specs are
 * swapped in one step. The scheduler follows in steps after it: until a check's step, its slots
 * fire as before, and a run of a check the swap replaced or removed is not recorded.
 */
async function applyChecks(options: LoaderOptions, checks: readonly LoadedCheck[]): Promise<void> {
  const { state, series, scheduler, shard } = options;
  const selected = shard ? await stepThrough(shardShare(checks, shard)) : checks;
  const known = await stepThrough(specsByName(checks));
  const staged = await stepThrough(state.stage(selected, APPLY_CHUNK));
  // An unchanged check's series are declared already, from the same spec (10,000 re-renders per reload saved).
  const seriesUpdate = await stepThrough(series.stage(staged.added, [], APPLY_CHUNK));
  options.known.current = known;
  for (const name of staged.removed) options.recorder.forget(name);
  staged.commit();
  seriesUpdate.commit();
  options.metrics.checks.set(staged.held.length);
  // Not in the same turn as the swap: that one step is long enough at 100,000 checks.
  await yieldToEventLoop();
  await stepThrough(scheduler.updateInSteps(staged.held, APPLY_CHUNK));
}

function* specsByName(checks: readonly LoadedCheck[]): Generator<void, Map<string, CheckSpec>> {
  const specs = new Map<string, CheckSpec>();
  for (let i = 0; i < checks.length; i++) {
    if (i > 0 && i % APPLY_CHUNK === 0) yield;
    const check = checks[i];
    if (check !== undefined) specs.set(check.spec.name, check.spec);
  }
  return specs;
}

/** selectShard() in steps: with many shards, scoring 100,000 checks against each takes a while. */
function* shardShare(checks: readonly LoadedCheck[], shard: { index: number; count: number }): Generator<void, LoadedCheck[]> {
  const share: LoadedCheck[] = [];
  const chunk = Math.max(1, Math.floor((APPLY_CHUNK * 8) / shard.count));
  for (let i = 0; i < checks.length; i++) {
    if (i > 0 && i % chunk === 0) yield;
    const check = checks[i];
    if (check !== undefined && shardOf(check.spec.name, shard.count) === shard.index) share.push(check);
  }
  return share;
}

/** Runs a prepared-in-steps operation, turning the event loop between its steps. */
async function stepThrough<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
    await yieldToEventLoop();
  }
}
