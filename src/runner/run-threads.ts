import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { usesKubernetes, type BoundCheck, type LoadedCheck } from '../checks/registry.js';
import type { Services } from '../checks/check-type.js';
import type { Run } from '../results/run.js';
import { portableSpec } from './portable-spec.js';
import { scrubForms } from '../results/secret-forms.js';
import { runCheck, type RunOptions } from './runner.js';
import type { EndSignal } from '../results/end-signal.js';
import { startThread, type ThreadHandle } from './thread-handle.js';
import type { ToThread } from './run-thread-protocol.js';
import { ThreadRun } from './thread-run.js';

type RunMessage = Extract<ToThread, { t: 'run' }>;

/**
 * Check runs spread over worker threads, so one daemon's run rate grows with its cores while
 * its own thread keeps the schedule, the state and the API. A run on a thread is the same
 * runner on the same spec (rebuilt there from its portable form), so its result, samples and
 * history are those of a run here. Checks that read the Kubernetes API stay on the daemon's
 * thread: its clients (one per kubeconfig, with their credentials) are shared by every check.
 * A thread that crashes or stops answering fails the runs it had, and the next run starts a
 * new one: a failed run, never a lost check.
 */
export interface RunThreads {
  /** Threads in use (0: every run on the calling thread). */
  readonly size: number;
  /**
   * Runs `bound` (the check as loaded, or pointed at a /probe target given in `target`) and never
   * rejects, like runCheck. `probe`: the caller will read the blackbox-named samples.
   */
  run(check: Pick<LoadedCheck, 'spec' | 'key'>, bound: BoundCheck, options: ThreadRunOptions): Promise<Run>;
  /**
   * Starts every thread and resolves when each is ready or has failed (at most WARM_LIMIT_MS), so
   * a daemon's first runs do not wait for a thread to load its code (a check every second would
   * skip its second slot).
   */
  warm(): Promise<void>;
  /** Runs handed to each thread so far (where the work went; the status of the spread). */
  counts(): number[];
  /** Messages handed to each thread so far (the runs one turn starts cross as one). */
  crossings(): number[];
  /** A check a reload removed: the threads drop their copy. */
  forget(name: string): void;
  /** Ends the threads; runs still on them fail. */
  close(): Promise<void>;
}

/** `serve --run-threads` when not given: one per core but one (the main thread's), at most 8. */
export function defaultRunThreadCount(): number {
  return Math.max(0, Math.min(8, availableParallelism() - 1));
}

export interface ThreadRunOptions extends RunOptions {
  target?: { target: string; as: 'check' | 'module' } | undefined;
  probe?: boolean;
}

export interface RunThreadOptions {
  /** Threads to start (0: none, every run here). */
  count: number;
  services: Services;
  /** The root logger: its level is the threads' level. */
  log: Logger;
}

/** Beyond a run's own timeout, how long a thread may take to answer (a new thread first loads its code). */
const ANSWER_GRACE_MS = 15_000;
/** How long warm() waits for the threads to load their code. */
const WARM_LIMIT_MS = 10_000;
/** Threads that end before they are ready, in a row, before runs stay on the daemon's thread. */
const MAX_FAILED_STARTS = 3;

export function createRunThreads(options: RunThreadOptions): RunThreads {
  const { services, log } = options;
  const { redactions } = services;
  const threads: (ThreadHandle | undefined)[] = Array.from({ length: Math.max(0, options.count) }, () => undefined);
  /** Called when a thread is ready or ends: warm() waits on these. */
  const settled = new Set<() => void>();
  const handed = threads.map(() => 0);
  let failedStarts = 0;
  let sweep: NodeJS.Timeout | undefined;

  redactions.onNew((value) => {
    for (const thread of threads) thread?.post({ t: 'redact', value });
  });

  const threadAt = (index: number): ThreadHandle | undefined => {
    if (failedStarts >= MAX_FAILED_STARTS) return undefined;
    const existing = threads[index];
    if (existing !== undefined) return existing;
    const thread = startThread(
      { release: services.release, level: log.level, redactions: redactions.values() },
      {
        ready: () => {
          failedStarts = 0;
          for (const notify of settled) notify();
        },
        redact: (value) => {
          redactions.add(value, () => scrubForms(value));
        },
        exit: (why) => {
          if (threads[index] === thread) threads[index] = undefined;
          if (!thread.ready && ++failedStarts === MAX_FAILED_STARTS) log.error({ why }, 'run threads cannot start: checks run on the main thread');
          for (const notify of settled) notify();
          const now = Date.now();
          for (const job of thread.jobs.values()) {
            if (job.deadline <= now) job.failed('timeout', 'the run thread did not answer in time and was stopped');
            else job.failed('error', `the run thread stopped: ${why}`);
          }
          thread.jobs.clear();
        },
      },
    );
    threads[index] = thread;
    sweep ??= setInterval(stopStuckThreads, 1000).unref();
    return thread;
  };

  /** A thread whose oldest run is far past its deadline is stuck (a loop that never yields): ended, its runs fail. */
  const stopStuckThreads = () => {
    const now = Date.now();
    for (const thread of threads) {
      if (thread === undefined) continue;
      for (const job of thread.jobs.values()) {
        if (job.deadline > now) continue;
        void thread.terminate();
        break;
      }
    }
  };

  /** Scheduled runs of a check go to the same thread (it keeps that check); on-demand ones to the least busy. */
  const pick = (name: string, spread: boolean): number => {
    if (!spread) return hash(name) % threads.length;
    let best = 0;
    for (let i = 1; i < threads.length; i++) if ((threads[i]?.jobs.size ?? 0) < (threads[best]?.jobs.size ?? 0)) best = i;
    return best;
  };

  /**
   * A signal many runs share (the scheduler's shutdown, a gate's) is listened to once, not once
   * per run: when it aborts, every run of every thread under it is cancelled.
   */
  const watched = new WeakSet<EndSignal>();
  const watch = (signal: EndSignal): void => {
    if (watched.has(signal)) return;
    watched.add(signal);
    signal.addEventListener('abort', () => {
      for (const thread of threads) for (const job of thread?.jobs.values() ?? []) if (job instanceof ThreadRun && job.outer === signal) job.abort();
    });
  };

  const runOnThread = (thread: ThreadHandle, check: Pick<LoadedCheck, 'spec' | 'key'>, bound: BoundCheck, run: ThreadRunOptions): Promise<Run> =>
    new Promise<Run>((resolve) => {
      const name = check.spec.name;
      // The caller's deadline (an on-demand run, which waited for its slot), or the check's timeout.
      const timeoutMs = run.deadline?.timeoutMs ?? Math.min(bound.spec.timeout, run.timeoutMs ?? bound.spec.timeout);
      const leftMs = run.deadline === undefined ? timeoutMs : Math.max(1, run.deadline.endsAt - performance.now());
      const job = new ThreadRun(resolve, thread, bound, run, redactions, timeoutMs, leftMs + ANSWER_GRACE_MS);
      job.id = thread.jobs.add(job);
      const message: RunMessage = { t: 'run', id: job.id, name, key: check.key, timeoutMs, leftMs, debug: run.debug ?? false, failureLevel: run.failureLevel ?? 'info', probe: run.probe ?? false };
      if (thread.sent.get(name) !== check.key) {
        message.spec = portableSpec(check.spec);
        thread.sent.set(name, check.key);
      }
      if (run.target) message.target = run.target;
      thread.post(message);
      const outer = job.outer;
      if (outer?.aborted) job.abort();
      else if (run.deadline !== undefined) job.listen();
      else if (outer !== undefined) watch(outer);
    });

  return {
    get size() {
      return failedStarts >= MAX_FAILED_STARTS ? 0 : threads.length;
    },
    run(check, bound, run) {
      if (threads.length === 0 || usesKubernetes(check.spec)) return runCheck(bound, run);
      const index = pick(check.spec.name, run.probe === true);
      const thread = threadAt(index);
      if (thread === undefined) return runCheck(bound, run);
      handed[index] = (handed[index] ?? 0) + 1;
      return runOnThread(thread, check, bound, run);
    },
    async warm() {
      for (let i = 0; i < threads.length; i++) threadAt(i);
      // A thread that ended before it was ready is undefined again: not waited for.
      const allSettled = () => failedStarts >= MAX_FAILED_STARTS || threads.every((thread) => thread === undefined || thread.ready);
      let timer: NodeJS.Timeout | undefined;
      const notify = (resolve: () => void) => () => {
        if (allSettled()) resolve();
      };
      let listener: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        listener = notify(resolve);
        settled.add(listener);
        timer = setTimeout(resolve, WARM_LIMIT_MS);
        listener();
      });
      clearTimeout(timer);
      if (listener) settled.delete(listener);
    },
    counts: () => [...handed],
    crossings: () => threads.map((thread) => thread?.crossings ?? 0),
    forget(name) {
      for (const thread of threads) {
        thread?.sent.delete(name);
        thread?.post({ t: 'forget', name });
      }
    },
    async close() {
      clearInterval(sweep);
      sweep = undefined;
      await Promise.all(threads.flatMap((thread) => (thread === undefined ? [] : [thread.terminate()])));
    },
  };
}

/** FNV-1a: a stable thread for a check name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
