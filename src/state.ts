import type { LoadedCheck } from './config/load.js';
import type { Reason, Result } from './result.js';

/**
 * One earlier run in brief: how it ended and when, without its observations. A check keeps its
 * latest result in full and its last `keep` runs in brief: at 10,000 checks a full result is
 * 0.5-0.65 KB and twenty of them per check were the daemon's largest memory item (bench/README.md).
 */
export interface RunSummary {
  ok: boolean;
  reason?: Reason;
  message: string;
  startedAt: string;
  durationMs: number;
  /** The ingress verdict (healthy, dns-drift, ...), for checks that give one. */
  verdict?: string;
}

/** What the API and status page know of one check: its spec, its latest result and its recent runs. */
export interface CheckEntry {
  check: LoadedCheck;
  /** The latest run in full (without the debug steps); undefined before the first run. */
  last: Result | undefined;
  /** Newest first, at most `keep` runs in brief; recent[0] is `last` in brief. */
  recent: RunSummary[];
  /** Consecutive runs with the same ok value, for "failing since". */
  streak: number;
  changedAt: string | undefined;
}

export interface StateStore {
  /** Replaces the set of checks (load or reload); results of checks that stay are kept. */
  set(checks: readonly LoadedCheck[]): void;
  get(name: string): CheckEntry | undefined;
  all(): CheckEntry[];
  /** Records a finished run; returns true when the check's ok state changed. */
  record(result: Result): boolean;
}

export function createStateStore(keep = 20): StateStore {
  let entries = new Map<string, CheckEntry>();
  return {
    set(checks) {
      const next = new Map<string, CheckEntry>();
      for (const check of checks) {
        const old = entries.get(check.spec.name);
        next.set(check.spec.name, old ? { ...old, check } : { check, last: undefined, recent: [], streak: 0, changedAt: undefined });
      }
      entries = next;
    },
    get: (name) => entries.get(name),
    all: () => [...entries.values()],
    record(result) {
      const entry = entries.get(result.name);
      if (!entry) return false;
      const previous = entry.recent[0];
      const changed = previous?.ok !== result.ok;
      entry.streak = changed ? 1 : entry.streak + 1;
      if (changed) entry.changedAt = result.startedAt;
      entry.last = result;
      entry.recent.unshift(summarize(result, previous));
      if (entry.recent.length > keep) entry.recent.length = keep;
      return changed;
    },
  };
}

function summarize(result: Result, previous: RunSummary | undefined): RunSummary {
  const verdict = result.observations.verdict;
  return {
    ok: result.ok,
    ...(result.reason !== undefined && { reason: result.reason }),
    // A check that keeps failing (or passing) the same way says the same thing every run: keep
    // one copy of the text rather than one per run.
    message: previous?.message === result.message ? previous.message : result.message,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    ...(typeof verdict === 'string' && { verdict: previous?.verdict === verdict ? previous.verdict : verdict }),
  };
}
