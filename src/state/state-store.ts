import type { LoadedCheck } from '../config/check-types.js';
import type { Result } from '../results/result.js';
import { RunHistory } from './run-history.js';
import type { WindowMark } from './windows.js';

export { RunHistory, type RunSummary, type RunTiming } from './run-history.js';

/**
 * What the API and status page know of one check: its spec, its latest result and its recent
 * runs. `C` is the loaded check with the spec and binding of its caller's check types.
 */
export interface CheckEntry<C extends LoadedCheck = LoadedCheck> {
  check: C;
  /** The latest run in full (without the debug steps); undefined before the first run. */
  last: Result | undefined;
  /** The last runs in brief; history.list()[0] is `last` in brief. */
  history: RunHistory;
  /** Consecutive runs in the same state (ok, failing, blocked), for "failing since". */
  streak: number;
  changedAt: string | undefined;
  /** The open deploy window selecting the check (windows.ts): a failure then is "converging". */
  window?: WindowMark | undefined;
}

export interface StateStore<C extends LoadedCheck = LoadedCheck> {
  /**
   * Replaces the set of checks (load or reload); results of checks that stay are kept. A check
   * whose spec is unchanged keeps its LoadedCheck object (with the new file and line), so a run
   * in flight, which holds that object, is still recorded; returns the checks as now held.
   */
  set(checks: readonly C[]): C[];
  /**
   * set() in steps, for a reload of many checks: yields between steps of `chunk` checks (the
   * caller turns the event loop there) without changing what get() and all() return, and
   * returns the staged set, which commit() makes current in one step. No other set() may come
   * between the two: commit() throws then.
   */
  stage(checks: readonly C[], chunk: number): Generator<void, StagedChecks<C>>;
  get(name: string): CheckEntry<C> | undefined;
  all(): CheckEntry<C>[];
  /** Records a finished run; returns true when the check's state (ok, failing, blocked) changed. */
  record(result: Result): boolean;
}

/** A set of checks staged by StateStore.stage(), not yet current. */
export interface StagedChecks<C extends LoadedCheck> {
  /** The checks as they will be held: an unchanged check keeps its object. */
  held: C[];
  /** The held checks that are not held now: new checks, and checks whose spec changed. */
  added: C[];
  /** Names held now that the staged set drops. */
  removed: string[];
  commit(): void;
}

export function createStateStore<C extends LoadedCheck>(keep = 20): StateStore<C> {
  let entries = new Map<string, CheckEntry<C>>();

  function* stage(checks: readonly C[], chunk: number): Generator<void, StagedChecks<C>> {
    const base = entries;
    const next = new Map<string, CheckEntry<C>>();
    const held: C[] = [];
    const added: C[] = [];
    /** Unchanged checks whose place in the files moved, and their place now. */
    const moved: [C, C][] = [];
    /** Checks whose spec changed: their staged entries and the current ones, whose results come over at commit. */
    const changed: [CheckEntry<C>, CheckEntry<C>][] = [];
    for (let i = 0; i < checks.length; i++) {
      if (i > 0 && i % chunk === 0) yield;
      const loaded = checks[i];
      if (loaded === undefined) continue;
      const old = base.get(loaded.spec.name);
      if (old !== undefined && old.check.key === loaded.key) {
        if (old.check.file !== loaded.file || old.check.line !== loaded.line || old.check.index !== loaded.index) moved.push([old.check, loaded]);
        next.set(loaded.spec.name, old);
        held.push(old.check);
        continue;
      }
      const entry: CheckEntry<C> = old ? { ...old, check: loaded } : { check: loaded, last: undefined, history: new RunHistory(keep), streak: 0, changedAt: undefined };
      if (old !== undefined) changed.push([entry, old]);
      next.set(loaded.spec.name, entry);
      held.push(loaded);
      added.push(loaded);
    }
    const removed: string[] = [];
    let seen = 0;
    for (const name of base.keys()) {
      if (++seen % chunk === 0) yield;
      if (!next.has(name)) removed.push(name);
    }
    const commit = () => {
      if (entries !== base) throw new Error('the checks changed while a new set was staged');
      for (const [check, place] of moved) Object.assign(check, { file: place.file, line: place.line, index: place.index });
      // A changed check keeps its results, history (the same ring) and streak, as recorded until now.
      for (const [entry, old] of changed) {
        entry.last = old.last;
        entry.streak = old.streak;
        entry.changedAt = old.changedAt;
        entry.window = old.window;
      }
      entries = next;
    };
    return { held, added, removed, commit };
  }

  return {
    set(checks) {
      const staged = finish(stage(checks, Infinity));
      staged.commit();
      return staged.held;
    },
    stage,
    get: (name) => entries.get(name),
    all: () => [...entries.values()],
    record(result) {
      const entry = entries.get(result.name);
      if (!entry) return false;
      const changed = entry.last?.ok !== result.ok || (entry.last.blocked === undefined) !== (result.blocked === undefined);
      entry.streak = changed ? 1 : entry.streak + 1;
      if (changed) entry.changedAt = result.startedAt;
      entry.last = result;
      entry.history.push(result);
      return changed;
    },
  };
}

/** Runs a staged operation to its end without turning the event loop. */
function finish<T>(steps: Generator<void, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}
