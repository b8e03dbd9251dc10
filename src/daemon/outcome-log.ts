import type { RunLog } from '../results/log.js';
import type { Reason, Result } from '../results/result.js';

/**
 * While a check keeps failing the same way, the daemon repeats it in the log at most this
 * often: every run would be 487 lines in 35 minutes for 14 failing checks, and the metrics,
 * the API and the status page have every run anyway.
 */
export const FAILURE_REPEAT_MS = 10 * 60_000;

/**
 * What the daemon writes at info about a check's runs (each run is at debug, from the runner):
 * a line when the check's state changes (passing, failing, or failing for another reason) and,
 * while it keeps failing, one reminder per `repeatMs`.
 */
export interface OutcomeLog {
  /**
   * After a recorded run; `changed` is whether it passed where the run before failed or the
   * reverse. `log` makes the check's logger, called only for a line to write.
   */
  note(log: () => RunLog, result: Result, state: { changed: boolean; since: string | undefined; runs: number }): void;
  forget(name: string): void;
}

export function createOutcomeLog(repeatMs = FAILURE_REPEAT_MS, now: () => number = Date.now): OutcomeLog {
  /** Failing checks: when their last info line was written, and for which reason. */
  const failing = new Map<string, { at: number; reason: Reason | undefined }>();
  return {
    note(log, result, state) {
      const before = failing.get(result.name);
      const at = now();
      if (result.ok) {
        failing.delete(result.name);
        if (state.changed) log().info({ ok: true }, 'check state changed');
        return;
      }
      if (state.changed || before === undefined || before.reason !== result.reason) {
        log().info({ ok: false, reason: result.reason, blocked: result.blocked?.by, error: result.message }, 'check state changed');
      } else if (at - before.at >= repeatMs) {
        log().info({ reason: result.reason, blocked: result.blocked?.by, error: result.message, since: state.since, runs: state.runs }, 'check still failing');
      } else {
        return;
      }
      failing.set(result.name, { at, reason: result.reason });
    },
    forget(name) {
      failing.delete(name);
    },
  };
}
