import type { LoadedCheck } from './config/load.js';
import type { Result } from './result.js';

/** What the API and status page know of one check: its spec and its recent results. */
export interface CheckEntry {
  check: LoadedCheck;
  /** Newest first, at most `keep` results. */
  recent: Result[];
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
        next.set(check.spec.name, old ? { ...old, check } : { check, recent: [], streak: 0, changedAt: undefined });
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
      entry.recent.unshift(result);
      if (entry.recent.length > keep) entry.recent.length = keep;
      return changed;
    },
  };
}
