import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { usesKubernetes, type BoundCheck, type LoadedCheck } from '../checks/registry.js';
import type { Services } from '../checks/check-type.js';
import { formatDuration } from '../config/duration.js';
import { boundResult } from '../results/result-bounds.js';
import type { Failure } from '../results/result.js';
import type { Run } from '../results/run.js';
import { portableSpec } from './portable-spec.js';
import { scrubForms } from '../results/secret-forms.js';
import { failedRun, runCheck, type RunOptions } from './runner.js';
import type { EndSignal } from '../results/end-signal.js';
import { startThread, type ThreadHandle, type ThreadJob } from './thread-handle.js';

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

  const runOnThread = (thread: ThreadHandle, check: Pick<LoadedCheck, 'spec' | 'key'>, bound: BoundCheck, run: ThreadRunOptions): Promise<Run> =>
    new Promise<Run>((resolve) => {
      const name = check.spec.name;
      const startedAt = new Date();
      const level = run.failureLevel ?? 'info';
      // The caller's deadline (an on-demand run, which waited for its slot), or the check's timeout.
      const timeoutMs = run.deadline?.timeoutMs ?? Math.min(bound.spec.timeout, run.timeoutMs ?? bound.spec.timeout);
      const leftMs = run.deadline === undefined ? timeoutMs : Math.max(1, run.deadline.endsAt - performance.now());
      // Cancellation crosses to the thread; a timeout does not need to: the thread's own timer ends the run.
      const outer: EndSignal | undefined = run.deadline ?? run.signal;
      let id = 0;
      const onAbort = () => {
        if (run.deadline !== undefined && !run.deadline.cancelled) return;
        const why: unknown = outer?.reason;
        const message = why instanceof Error ? why.message : String(why);
        thread.post({ t: 'abort', id, reason: run.deadline === undefined ? `cancelled: ${message}` : message });
      };
      const settle = () => {
        outer?.removeEventListener('abort', onAbort);
      };
      const job: ThreadJob = {
        deadline: Date.now() + leftMs + ANSWER_GRACE_MS,
        done(answer) {
          settle();
          // Scrubbed again here only when this thread knows credentials the run's thread did not yet.
          const same = answer.added === redactions.added && !answer.evicted && !redactions.evicted;
          const result = same ? answer.result : boundResult(answer.result, redactions.scrubber());
          const probeSamples = answer.probeSamples ?? [];
          resolve({ result, samples: answer.samples, probeSamples: () => probeSamples });
        },
        unportable() {
          settle();
          resolve(runCheck(bound, run));
        },
        failed(reason, message) {
          settle();
          const failure: Failure = { reason, message: reason === 'timeout' ? `timeout after ${formatDuration(timeoutMs)}: ${message}` : message };
          resolve(failedRun(bound, failure, startedAt, redactions, run.log, level));
        },
        log(levelNumber, msg, fields) {
          const method = levelName(levelNumber);
          if (method !== undefined) run.log[method](fields, msg);
        },
      };
      id = thread.jobs.add(job);
      const spec = thread.sent.get(name) === check.key ? undefined : portableSpec(check.spec);
      if (spec !== undefined) thread.sent.set(name, check.key);
      thread.post({ t: 'run', id, name, key: check.key, ...(spec !== undefined && { spec }), timeoutMs, leftMs, debug: run.debug ?? false, failureLevel: level, ...(run.target && { target: run.target }), probe: run.probe ?? false });
      if (outer?.aborted) onAbort();
      else outer?.addEventListener('abort', onAbort, { once: true });
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

function levelName(level: number): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | undefined {
  switch (level) {
    case 10:
      return 'trace';
    case 20:
      return 'debug';
    case 30:
      return 'info';
    case 40:
      return 'warn';
    case 50:
      return 'error';
    case 60:
      return 'fatal';
    default:
      return undefined;
  }
}
