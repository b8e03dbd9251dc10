import type { RunLog } from '../results/log.js';
import type { OnDemandRun, RunNowOptions } from '../api/served-daemon.js';
import type { Services } from '../checks/check-type.js';
import type { BoundCheck, LoadedCheck } from '../checks/registry.js';
import { formatDuration } from '../config/duration.js';
import { CheckNotFoundError } from '../results/errors.js';
import type { Run } from '../results/run.js';
import { RunDeadline } from '../runner/run-deadline.js';
import { failedRun, runCheck } from '../runner/runner.js';
import type { RunThreads } from '../runner/run-threads.js';
import { retarget } from '../runner/target.js';
import { createConcurrencyLimit, SlotWaitAborted, type ConcurrencyLimit } from '../scheduler/concurrency-limit.js';
import type { StateStore } from '../state/state-store.js';
import type { Recorder } from './recorder.js';

export interface OnDemandOptions {
  state: StateStore<LoadedCheck>;
  services: Services;
  recorder: Recorder;
  /** Where runs execute: a run thread, or this one. */
  threads: RunThreads;
  /** On-demand runs at once; a quarter of them for one check and target, sixteen times as many waiting. */
  slots: number;
  /** The scheduled run of a check in flight now, if any (see trackScheduledRun): a gate joins it. */
  scheduledRun?: (check: LoadedCheck) => Promise<Run> | undefined;
}

/** Scheduled runs in flight, by check name; a check that has none keeps its key (see trackScheduledRun). */
export type ScheduledRuns = Map<string, { check: LoadedCheck; run: Promise<Run> } | undefined>;

/**
 * Keeps `run`, a scheduled run of `check`, in `runs` while it is in flight, so a gate asking for
 * the check meanwhile waits for it instead of probing the target a second time; the caller hands
 * what this returns to untrackScheduledRun when the run has ended. The check's key stays when
 * the run ends (its value undefined) and goes when a reload removes the check: a Map that gained
 * and lost a key per run kept every run's objects past the young generation (runner/id-table.ts
 * says how). Not a wrapping promise: at 2,000 runs a second each one was garbage (issue 29).
 */
export function trackScheduledRun(runs: ScheduledRuns, check: LoadedCheck, run: Promise<Run>): { check: LoadedCheck; run: Promise<Run> } {
  const held = { check, run };
  runs.set(check.spec.name, held);
  return held;
}

export function untrackScheduledRun(runs: ScheduledRuns, held: { check: LoadedCheck; run: Promise<Run> }): void {
  const name = held.check.spec.name;
  if (runs.get(name) === held) runs.set(name, undefined);
}

/** The scheduled run of this version of the check in flight now, if any. */
export function scheduledRunOf(runs: ScheduledRuns, check: LoadedCheck): Promise<Run> | undefined {
  const held = runs.get(check.spec.name);
  return held?.check === check ? held.run : undefined;
}

/** One run waiting for its on-demand slot, and what it runs under once it has one. */
interface SlotRun {
  check: LoadedCheck;
  bound: BoundCheck;
  /** The /probe target the run is pointed at, when it is. */
  target: { target: string; as: 'check' | 'module' } | undefined;
  /** The limit's per-key share: the check and its target. */
  key: string;
  startedAt: Date;
  /** The run's one deadline: the wait gives up on it, the run runs in what is left of it. */
  deadline: RunDeadline;
  debug: boolean;
  log: RunLog;
  /** The services with another release than the daemon's: the run runs on this thread with them. */
  release: Services | undefined;
}

/**
 * Runs a check now, for /probe and POST run: in a bounded number of slots, the wait for one
 * counted in the run's time limit. A run of the check as configured, whose caller stayed, is
 * recorded like a scheduled one.
 */
export function createOnDemandRuns(options: OnDemandOptions): (name: string, runOptions?: RunNowOptions) => Promise<OnDemandRun> {
  const limit = createConcurrencyLimit(options.slots, options.slots * 16, Math.ceil(options.slots / 4));
  const runOnce = runAlone(options, limit);
  const shared = new Map<string, SharedRun>();
  return (name, runOptions = {}) => {
    // A retargeted or debug run is its caller's own; a gate's run of the check as configured is everyone's.
    if (runOptions.join !== true || runOptions.target !== undefined || runOptions.debug === true) return runOnce(name, runOptions);
    return joinRun(shared, options, name, runOptions, runOnce);
  };
}

/** A run that several gate callers wait for: cancelled only when the last of them has gone. */
interface SharedRun {
  check: LoadedCheck;
  run: Promise<OnDemandRun>;
  callers: number;
  cancel: (why: string) => void;
}

/**
 * Joins the run of this check (as configured, for the same release) that another gate caller
 * started, or the scheduler, and that is still going; or starts one other gate callers can join:
 * two Argo Rollouts analyses and a Flagger webhook asking at once probe the target once. A joiner
 * that goes away only stops waiting; a gate's run is cancelled when no caller is left, a
 * scheduled one runs on (the scheduler records it).
 */
function joinRun(shared: Map<string, SharedRun>, options: OnDemandOptions, name: string, runOptions: RunNowOptions, runOnce: RunOnce): Promise<OnDemandRun> {
  const entry = options.state.get(name);
  if (!entry) return Promise.reject(new CheckNotFoundError(name));
  const daemonRelease = runOptions.release === undefined || runOptions.release === options.services.release;
  const scheduled = daemonRelease ? options.scheduledRun?.(entry.check) : undefined;
  if (scheduled !== undefined) return scheduled.then((run) => ({ timeoutMs: entry.check.spec.timeout, ...run }));
  const key = `${name}\u0000${runOptions.release ?? ''}`;
  const leave = (joined: SharedRun, why: string) => {
    joined.callers -= 1;
    if (joined.callers === 0) joined.cancel(why);
  };
  const running = shared.get(key);
  if (running !== undefined && running.check === entry.check) {
    running.callers += 1;
    runOptions.onCallerGone?.((why) => {
      leave(running, why);
    });
    return running.run;
  }
  let cancelRun: ((why: string) => void) | undefined;
  const run = runOnce(name, { ...runOptions, onCallerGone: (cancel) => (cancelRun = cancel) });
  const started: SharedRun = {
    check: entry.check,
    callers: 1,
    cancel: (why) => cancelRun?.(why),
    run: run.finally(() => {
      if (shared.get(key) === started) shared.delete(key);
    }),
  };
  runOptions.onCallerGone?.((why) => {
    leave(started, why);
  });
  shared.set(key, started);
  return started.run;
}

type RunOnce = (name: string, runOptions: RunNowOptions) => Promise<OnDemandRun>;

/** One caller's on-demand run. */
function runAlone(options: OnDemandOptions, limit: ConcurrencyLimit): RunOnce {
  const { state, recorder } = options;
  return async (name, runOptions) => {
    const entry = state.get(name);
    if (!entry) throw new CheckNotFoundError(name);
    const { check } = entry;
    const bound = runOptions.target === undefined ? check.bound : retarget(check.bound, runOptions.target, runOptions.targetAs);
    const startedAt = new Date();
    const timeoutMs = Math.min(bound.spec.timeout, runOptions.timeoutMs ?? bound.spec.timeout);
    // One timer and one signal for the wait and the run; a caller that leaves cancels both.
    const deadline = new RunDeadline(timeoutMs);
    runOptions.onCallerGone?.((why) => {
      deadline.cancel(why);
    });
    const log = recorder.loggerFor(check);
    // Another release than the daemon's (a gate's `release`): run here with it, as run threads know only the daemon's.
    const release = runOptions.release !== undefined && runOptions.release !== options.services.release ? { ...options.services, release: runOptions.release } : undefined;
    try {
      const target = runOptions.target === undefined ? undefined : { target: runOptions.target, as: runOptions.targetAs ?? 'check' };
      const run = await runInSlot(limit, options, { check, bound, target, key: `${check.spec.name} ${bound.target ?? ''}`, startedAt, deadline, debug: runOptions.debug ?? false, log, release });
      // A retargeted run observed something else than the check, a run for another release
      // verified something else than the check is configured for, and a run whose caller left
      // was cut short by it: none touches the check's state.
      if (bound === check.bound && release === undefined && !deadline.cancelled && state.get(name)?.check === check) recorder.record(check, run);
      // timeoutMs first: on Node 20 a key added after a leading spread costs about a microsecond.
      return { timeoutMs, ...run };
    } catch (err) {
      if (!(err instanceof SlotWaitAborted) || deadline.cancelled) throw err;
      const message = `timeout after ${formatDuration(timeoutMs)} waiting for an on-demand slot: ${err.message}`;
      return { timeoutMs, ...failedRun(bound, { reason: 'timeout', message }, startedAt, options.services.redactions, log) };
    } finally {
      deadline.dispose();
    }
  };
}

/** Waits for a slot within the run's deadline, then runs in what is left of it. */
function runInSlot(limit: ConcurrencyLimit, { services, threads }: Pick<OnDemandOptions, 'services' | 'threads'>, slot: SlotRun): Promise<Run> {
  // The task starts inside run() when a slot is free at once, later when it had to wait.
  let queued = false;
  let waitedMs = 0;
  const pending = limit.run(
    () => {
      waitedMs = queued ? Date.now() - slot.startedAt.getTime() : 0;
      if (slot.release !== undefined) return runCheck(slot.bound, { log: slot.log, services: slot.release, debug: slot.debug, deadline: slot.deadline, failureLevel: 'debug' });
      return threads.run(slot.check, slot.bound, { log: slot.log, services, debug: slot.debug, deadline: slot.deadline, failureLevel: 'debug', target: slot.target, probe: true });
    },
    { key: slot.key, signal: slot.deadline },
  );
  queued = true;
  return pending.then((run) => {
    // The wait was part of the run's time: a timeout says how much of it went there.
    if (run.result.reason === 'timeout' && waitedMs > 0) {
      run.result.message = `timeout after ${formatDuration(slot.deadline.timeoutMs)}, ${formatDuration(waitedMs)} of it waiting for an on-demand slot`;
    }
    return run;
  });
}
