import type { LoadedCheck } from '../config/check-types.js';
import type { Result } from '../results/result.js';
import { RunHistory } from './run-history.js';
import type { WindowMark } from './windows.js';

export { RunHistory, type RunSummary, type RunTiming } from './run-history.js';

/** How the latest run ended, without reading it: pending (no run yet), ok, failing or blocked. */
export type LastState = 'pending' | 'ok' | 'failing' | 'blocked';

/**
 * What the API and status page know of one check: its spec, its latest result and its recent
 * runs. `C` is the loaded check with the spec and binding of its caller's check types.
 */
export interface CheckEntry<C extends LoadedCheck = LoadedCheck> {
  check: C;
  /**
   * The latest run in full (without the debug steps); undefined before the first run. Kept as
   * its JSON text and read back on each access, so each read gives a new object.
   */
  readonly last: Result | undefined;
  /** How the latest run ended, read without the result. */
  readonly lastState: LastState;
  /** The last runs in brief; history.list()[0] is `last` in brief. */
  history: RunHistory;
  /** Consecutive runs in the same state (ok, failing, blocked), for "failing since". */
  streak: number;
  changedAt: string | undefined;
  /** The open deploy window selecting the check (windows.ts): a failure then is "converging". */
  window?: WindowMark | undefined;
}

/**
 * A check's entry. The latest result is held as its JSON text: as objects, a result was some 25
 * objects and ~1.2 KB per check that every run replaced, so at 100,000 checks the objects the
 * garbage collector marked, and the objects each run left for it, were mostly latest results;
 * their marking held the event loop for 100-200 ms at a time (bench scale at 100,000 checks).
 * As text it is one string, which the collector does not look into. A result is plain JSON data
 * (result-bounds.ts makes it so), so the text reads back as the same result.
 */
class Entry<C extends LoadedCheck> implements CheckEntry<C> {
  private text: string | undefined = undefined;
  lastState: LastState = 'pending';
  streak = 0;
  changedAt: string | undefined = undefined;
  window?: WindowMark | undefined = undefined;

  constructor(
    public check: C,
    public history: RunHistory,
  ) {}

  get last(): Result | undefined {
    if (this.text === undefined) return undefined;
    const result: unknown = JSON.parse(this.text);
    return isResult(result) ? result : undefined;
  }

  /** Records the run; returns true when the state (ok, failing, blocked) changed. */
  record(result: Result): boolean {
    const state: LastState = result.ok ? 'ok' : result.blocked === undefined ? 'failing' : 'blocked';
    const changed = state !== this.lastState;
    this.streak = changed ? 1 : this.streak + 1;
    if (changed) this.changedAt = result.startedAt;
    this.lastState = state;
    this.text = flat(JSON.stringify(result));
    this.history.push(result);
    return changed;
  }

  /** The results, streak and window of `old`, as recorded until now (a changed spec keeps them). */
  takeOver(old: Entry<C>): void {
    this.text = old.text;
    this.lastState = old.lastState;
    this.streak = old.streak;
    this.changedAt = old.changedAt;
    this.window = old.window;
  }
}

/**
 * The text as one flat string. JSON.stringify gives a rope of its output's pieces (a ConsString
 * tree: some 9 objects for a 500-character result, which the collector walks); reading a
 * character flattens the rope in place, and the collector then keeps only the flat text (as
 * measured: 100,000 such texts, 65.5 MB of heap kept as ropes, 51.2 MB flattened).
 */
function flat(text: string): string {
  if (text.length > 0 && text.charCodeAt(0) < 0) throw new Error('unreachable');
  return text;
}

/** Our own JSON text read back: checked only as far as the type needs, the rest is as written. */
function isResult(value: unknown): value is Result {
  return typeof value === 'object' && value !== null && 'name' in value && 'ok' in value;
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
  let entries = new Map<string, Entry<C>>();

  function* stage(checks: readonly C[], chunk: number): Generator<void, StagedChecks<C>> {
    const base = entries;
    const next = new Map<string, Entry<C>>();
    const held: C[] = [];
    const added: C[] = [];
    /** Unchanged checks whose place in the files moved, and their place now. */
    const moved: [C, C][] = [];
    /** Checks whose spec changed: their staged entries and the current ones, whose results come over at commit. */
    const changed: [Entry<C>, Entry<C>][] = [];
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
      // A changed check keeps its history ring now and its results at commit (takeOver), as recorded until then.
      const entry = new Entry(loaded, old?.history ?? new RunHistory(keep));
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
      for (const [entry, old] of changed) entry.takeOver(old);
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
      return entries.get(result.name)?.record(result) ?? false;
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
