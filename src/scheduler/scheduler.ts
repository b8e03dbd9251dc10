import type { Logger } from 'pino';
import type { LoadedCheck } from '../checks/registry.js';
import { DueHeap } from './due-heap.js';
import { createEntry, SlotJob, type Entry } from './entry.js';
import { createRunPool } from './run-pool.js';
import { CronMatchers, firstRunWindow, Timing } from './slot.js';

export interface SchedulerOptions {
  /** Runs a check once; should never reject (the runner turns failures into results). */
  execute(check: LoadedCheck, signal: AbortSignal): Promise<void>;
  /** Scheduled runs at once; runs past the cap wait in FIFO order. */
  concurrency: number;
  /** How late a run started against its slot, waiting for the cap included. */
  onLag(seconds: number, check: LoadedCheck): void;
  /** A slot came while the previous run of the check was still going (or waiting): skipped. */
  onSkip?(check: LoadedCheck): void;
  log: Logger;
}

export interface Scheduler {
  /** Replaces the set of checks (reload); unchanged checks keep their slots and running state. */
  update(checks: readonly LoadedCheck[]): void;
  /**
   * update() in steps of `chunk` checks, for a reload of many checks: the caller turns the event
   * loop at each yield, and slots that come meanwhile fire as usual (the checks already handed
   * over run as the new ones; the others as the old ones, not yet removed). Two updates must not
   * be stepped at once.
   */
  updateInSteps(checks: readonly LoadedCheck[], chunk: number): Generator<void>;
  start(): void;
  /** Stops scheduling now, lets runs finish for graceMs, aborts the rest; resolves when all settled. */
  stop(graceMs: number): Promise<void>;
  /** Started and not stopped (for /readyz). */
  readonly running: boolean;
  readonly inFlight: number;
  nextRunAt(name: string): Date | undefined;
}

/** The longest step of a stepped update (updateInSteps), in ms of work. */
const STEP_MS = 10;

// setTimeout holds at most 2^31-1 ms (about 24 days); a cron slot further out is reached by re-arming.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs checks at their slots: intervals at stable per-name offsets, cron schedules, never two
 * runs of one check at once, at most `concurrency` runs in total. Late slots are not replayed:
 * after a stall a check runs once and moves on to its next future slot.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { log } = options;
  const pool = createRunPool(options.concurrency, log);
  const entries = new Map<string, Entry>();
  const heap = new DueHeap<Entry>();
  const matchers = new CronMatchers();
  let phase: 'new' | 'started' | 'stopped' = 'new';
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  let stopping: Promise<void> | undefined;
  // A function, not a comparison, so narrowing does not assume phase unchanged across callouts.
  const started = (): boolean => phase === 'started';

  /** Calls a caller's callback; a throwing callback must not break the scheduling loop. */
  const report = (what: string, callback: () => void): void => {
    try {
      callback();
    } catch (err) {
      log.error({ err }, `scheduler ${what} callback threw`);
    }
  };

  /** The next slot of the entry; its first one (within `firstWindow` ms) after it is (re)scheduled. */
  const plan = (entry: Entry, firstWindow?: number): void => {
    entry.slot = firstWindow === undefined ? entry.timing.next() : entry.timing.first(firstWindow);
    if (entry.slot === undefined) {
      heap.delete(entry);
      log.warn({ check: entry.check.spec.name }, 'check has no future slot: not scheduled');
      return;
    }
    heap.set(entry, entry.slot);
  };

  const arm = (): void => {
    if (phase !== 'started') return;
    const top = heap.peek();
    if (top === undefined || (timer !== undefined && top.due >= armedFor)) return;
    clearTimeout(timer);
    armedFor = top.due;
    timer = setTimeout(onTimer, Math.min(Math.max(0, top.due - Date.now()), MAX_TIMER_MS));
  };

  const onTimer = (): void => {
    timer = undefined;
    armedFor = Infinity;
    const now = Date.now();
    for (let entry = heap.peek(); entry !== undefined && entry.due <= now && started(); entry = heap.peek()) {
      heap.pop();
      fire(entry, entry.due);
      // fire() calls out to execute, which may have stopped the scheduler, or re-planned or removed the check.
      if (started() && !entry.removed) plan(entry);
    }
    arm();
  };

  const fire = (entry: Entry, slot: number): void => {
    const { check } = entry;
    if (entry.busy !== 'idle') {
      log.debug({ check: check.spec.name, slot: new Date(slot).toISOString(), busy: entry.busy }, 'slot skipped');
      report('onSkip', () => options.onSkip?.(check));
      return;
    }
    entry.busy = 'queued';
    pool.submit(new SlotJob(entry, slot, runEntry));
  };

  const runEntry = async (entry: Entry, slot: number, signal: AbortSignal): Promise<void> => {
    // Removed while waiting for a place: the run is dropped with the check.
    if (entry.removed) {
      finish(entry);
      return;
    }
    entry.busy = 'running';
    // Read when the run starts, not when the slot came: a reload meanwhile wins.
    const { check } = entry;
    report('onLag', () => {
      options.onLag(Math.max(0, Date.now() - slot) / 1000, check);
    });
    try {
      await options.execute(check, signal);
    } finally {
      finish(entry);
    }
  };

  const finish = (entry: Entry): void => {
    entry.busy = 'idle';
    // Removed while it ran: the entry was kept only to guard against an overlapping re-add.
    const { name } = entry.check.spec;
    if (entry.removed && entries.get(name) === entry) entries.delete(name);
  };

  const remove = (entry: Entry): void => {
    entry.removed = true;
    heap.delete(entry);
    entry.slot = undefined;
    entry.timing.dispose();
    // A run in flight finishes; its entry stays until then so a re-added check cannot overlap it.
    if (entry.busy !== 'running') entries.delete(entry.check.spec.name);
  };

  /** A check of the new set: added, replanned when its spec changed, or handed over as the current object. */
  const apply = (check: LoadedCheck, firstWindow: number): void => {
    const entry = entries.get(check.spec.name);
    // The same object is the same spec (the daemon's state keeps unchanged checks' objects).
    if (entry?.check === check && !entry.removed) return;
    if (entry === undefined) {
      const created = createEntry(check, matchers);
      entries.set(check.spec.name, created);
      plan(created, firstWindow);
    } else if (entry.removed || entry.check.key !== check.key) {
      entry.timing.dispose();
      Object.assign(entry, { check, timing: Timing.of(check.spec, matchers), removed: false });
      plan(entry, firstWindow);
    } else {
      // Same spec, maybe a new object: callers compare by identity, so hand runs the current one.
      entry.check = check;
    }
  };

  function* updateInSteps(checks: readonly LoadedCheck[], chunk: number): Generator<void> {
    /** Whether to go on after a step: a stop() meanwhile ends the update. */
    const going = (): boolean => {
      if (phase !== 'stopped') return true;
      log.debug('scheduler stopped: update ignored');
      return false;
    };
    // A step ends after `chunk` checks or STEP_MS, whichever comes first: a cron check costs
    // ~100x an interval check (node-cron builds its matcher and searches its next date).
    let stepStart = performance.now();
    let inStep = 0;
    const stepDone = (): boolean => {
      if (++inStep < chunk && performance.now() - stepStart < STEP_MS) return false;
      inStep = 0;
      return true;
    };
    const stepBegins = (): void => {
      stepStart = performance.now();
    };
    if (!going()) return;
    const names = new Set<string>();
    let fresh = 0;
    for (const check of checks) {
      names.add(check.spec.name);
      const entry = entries.get(check.spec.name);
      if (entry === undefined || entry.removed || entry.check.key !== check.key) fresh++;
      if (stepDone()) {
        yield;
        stepBegins();
        if (!going()) return;
      }
    }
    const firstWindow = firstRunWindow(fresh);
    for (const entry of [...entries.values()]) {
      if (!entry.removed && !names.has(entry.check.spec.name)) remove(entry);
      if (stepDone()) {
        yield;
        stepBegins();
        if (!going()) return;
      }
    }
    for (const check of checks) {
      apply(check, firstWindow);
      if (stepDone()) {
        arm();
        yield;
        stepBegins();
        if (!going()) return;
      }
    }
    arm();
  }

  return {
    update(checks) {
      const steps = updateInSteps(checks, Infinity);
      while (steps.next().done !== true);
    },

    updateInSteps,

    start() {
      if (phase === 'stopped') throw new Error('scheduler was stopped; create a new one');
      if (phase === 'started') return;
      phase = 'started';
      // Slots planned by update() before start may have passed meanwhile: plan again from now.
      heap.clear();
      const firstWindow = firstRunWindow(entries.size);
      for (const entry of entries.values()) if (!entry.removed) plan(entry, firstWindow);
      log.info({ checks: entries.size, concurrency: options.concurrency }, 'scheduler started');
      arm();
    },

    stop(graceMs) {
      if (stopping) return stopping;
      phase = 'stopped';
      clearTimeout(timer);
      timer = undefined;
      heap.clear();
      for (const entry of entries.values()) {
        entry.slot = undefined;
        entry.timing.dispose();
      }
      log.info({ inFlight: pool.active, graceMs }, 'scheduler stopping');
      stopping = pool.close(graceMs).then(() => {
        log.info('scheduler stopped');
      });
      return stopping;
    },

    get running() {
      return started();
    },

    get inFlight() {
      return pool.active;
    },

    nextRunAt(name) {
      const slot = entries.get(name)?.slot;
      return slot === undefined ? undefined : new Date(slot);
    },
  };
}
