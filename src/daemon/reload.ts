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
import { selectShard } from '../scheduler/shard.js';
import type { StateStore } from '../state/state-store.js';
import type { Recorder } from './recorder.js';

export interface LoaderOptions {
  checkPaths: readonly string[];
  shard?: { index: number; count: number } | undefined;
  log: Logger;
  services: Services;
  /** Every loaded check by name, before sharding (a check may refer to one another shard runs); refilled on each load. */
  known: Map<string, CheckSpec>;
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

export function createLoader(options: LoaderOptions): Loader {
  const { log, metrics } = options;
  let lastReload: ReloadOutcome | undefined;
  let loaded = false;
  let reloading: Promise<ReloadOutcome> = Promise.resolve({ ok: true, checks: 0, problems: [], at: '' });

  /** The one path of load and reload: read and validate every file, prepare what the checks need, swap them in. */
  const loadAndApply = async (at: string): Promise<ReloadOutcome> => {
    const checks = await loadChecks(options.checkPaths, checkTypes);
    await prepareServices(options.services, checks.map((c) => c.spec));
    applyChecks(options, checks);
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
      const outcome = await loadAndApply(new Date().toISOString());
      loaded = true;
      return outcome.checks;
    },
    reload() {
      reloading = reloading.then(reloadOnce, reloadOnce);
      return reloading;
    },
  };
}

/**
 * Swaps a loaded set of checks in: this shard's share into the state, the series and the
 * scheduler. Unchanged checks keep their objects, so runs in flight of them are still recorded.
 */
function applyChecks(options: LoaderOptions, checks: readonly LoadedCheck[]): void {
  const { state, series, scheduler } = options;
  options.known.clear();
  for (const check of checks) options.known.set(check.spec.name, check.spec);
  const selected = options.shard ? selectShard(checks, options.shard) : checks;
  const names = new Set(selected.map((c) => c.spec.name));
  for (const entry of state.all()) if (!names.has(entry.check.spec.name)) options.recorder.forget(entry.check.spec.name);
  const before = new Set(state.all().map((entry) => entry.check));
  const held = state.set(selected);
  // An unchanged check's series are declared already, from the same spec (10,000 re-renders per reload saved).
  for (const check of held) if (!before.has(check)) series.declare(check);
  scheduler.update(held);
  options.metrics.checks.set(held.length);
}
