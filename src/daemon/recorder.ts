import type { Logger } from 'pino';
import type { LoadedCheck } from '../checks/registry.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { SeriesStore } from '../metrics/series-store.js';
import type { Run } from '../results/run.js';
import type { Result } from '../results/result.js';
import type { StateStore } from '../state/state-store.js';
import { createOutcomeLog } from './outcome-log.js';
import { CheckLog, type RunLog } from '../results/log.js';

/** Where a finished run goes: the check's state, its log lines, its series, the run histogram. */
export interface Recorder {
  /** The daemon's logger bound to { check, type } for one run (results/log.ts CheckLog). */
  loggerFor(check: LoadedCheck): RunLog;
  record(check: LoadedCheck, run: Run): void;
  /** A check a reload removed: its series and its repeat timer go. */
  forget(name: string): void;
}

export interface RecorderOptions {
  log: Logger;
  state: StateStore<LoadedCheck>;
  series: SeriesStore;
  metrics: DaemonMetrics;
  /** How often a check that keeps failing is repeated in the log, and the clock for it. */
  failureLog?: { repeatMs?: number; now?: () => number } | undefined;
}

export function createRecorder(options: RecorderOptions): Recorder {
  const { state, series, metrics } = options;
  const outcomes = createOutcomeLog(options.failureLog?.repeatMs, options.failureLog?.now);
  const loggerFor = (check: LoadedCheck): RunLog => new CheckLog(options.log, check.spec.name, check.spec.type);
  return {
    loggerFor,
    record(check, run) {
      const changed = state.record(withoutSteps(run.result));
      const entry = state.get(check.spec.name);
      outcomes.note(() => loggerFor(check), run.result, { changed, since: entry?.changedAt, runs: entry?.streak ?? 1 });
      series.record(check, run);
      if (!run.result.blocked) metrics.observeRun(check.spec.type, run.result.durationMs / 1000);
    },
    forget(name) {
      series.remove(name);
      outcomes.forget(name);
    },
  };
}

/** The step-by-step record belongs to the caller who asked for it, not to the history; a copy only when there is one. */
function withoutSteps(result: Result): Result {
  if (result.steps === undefined) return result;
  const { steps: _steps, ...rest } = result;
  return rest;
}
