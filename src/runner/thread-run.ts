import type { BoundCheck } from '../checks/registry.js';
import { formatDuration } from '../config/duration.js';
import type { EndSignal } from '../results/end-signal.js';
import type { Redactions } from '../results/redactions.js';
import { boundResult } from '../results/result-bounds.js';
import type { Failure, Reason } from '../results/result.js';
import type { ProbeSample, Run, Sample } from '../results/run.js';
import { failedRun, runCheck, type RunOptions } from './runner.js';
import type { ThreadHandle, ThreadJob } from './thread-handle.js';

/**
 * A run handed to a thread, from the daemon's side: it settles the caller's promise with the
 * thread's answer, with a failed run when the thread cannot answer, or by running here when the
 * thread cannot rebuild the check. One object with methods rather than a literal of closures:
 * at 2,000 runs a second each closure was garbage of its own (issue 29).
 */
export class ThreadRun implements ThreadJob {
  /** The id its messages carry, once the thread's table has it. */
  id = 0;
  readonly deadline: number;
  private readonly startedAt = Date.now();
  /** Its listener on a signal of this run alone (an on-demand run's deadline): removed when it settles. */
  private onAbort: (() => void) | undefined = undefined;
  /** The caller's promise and the run, until it settles: see settle(). */
  private pending: { resolve: (run: Run | Promise<Run>) => void; bound: BoundCheck; options: RunOptions; outer: EndSignal | undefined } | undefined;

  constructor(
    resolve: (run: Run | Promise<Run>) => void,
    private readonly thread: ThreadHandle,
    bound: BoundCheck,
    options: RunOptions,
    private readonly redactions: Redactions,
    /** The limit the result names. */
    readonly timeoutMs: number,
    answerWithinMs: number,
  ) {
    this.pending = { resolve, bound, options, outer: options.deadline ?? options.signal };
    this.deadline = Date.now() + answerWithinMs;
  }

  /** What cancels the run while it is pending: the caller's deadline (an on-demand run), or its signal. */
  get outer(): EndSignal | undefined {
    return this.pending?.outer;
  }

  /** Listens to the caller's own deadline, when it has one; a signal many runs share is watched once for all (run-threads.ts). */
  listen(): void {
    const callerDeadline = this.pending?.options.deadline;
    if (callerDeadline === undefined) return;
    this.onAbort = () => {
      this.abort();
    };
    callerDeadline.addEventListener('abort', this.onAbort);
  }

  /** The caller cancelled: the thread is told, and its run answers with the reason. A timeout needs no word: the thread's own timer ends the run. */
  abort(): void {
    const callerDeadline = this.pending?.options.deadline;
    if (this.pending === undefined || (callerDeadline !== undefined && !callerDeadline.cancelled)) return;
    const why: unknown = this.pending.outer?.reason;
    const message = why instanceof Error ? why.message : String(why);
    this.thread.post({ t: 'abort', id: this.id, reason: callerDeadline === undefined ? `cancelled: ${message}` : message });
  }

  done(answer: { result: Run['result']; samples: Sample[]; probeSamples: ProbeSample[] | undefined; added: number; evicted: boolean }): void {
    const pending = this.settle();
    if (pending === undefined) return;
    const { redactions } = this;
    // Scrubbed again here only when this thread knows credentials the run's thread did not yet.
    const same = answer.added === redactions.added && !answer.evicted && !redactions.evicted;
    const result = same ? answer.result : boundResult(answer.result, redactions.scrubber());
    const probe = answer.probeSamples;
    // A scheduled run's answer has none (nothing reads them): no closure for it.
    pending.resolve({ result, samples: answer.samples, probeSamples: probe === undefined ? noProbeSamples : () => probe });
  }

  unportable(): void {
    const pending = this.settle();
    pending?.resolve(runCheck(pending.bound, pending.options));
  }

  failed(reason: Reason, message: string): void {
    const pending = this.settle();
    if (pending === undefined) return;
    const failure: Failure = { reason, message: reason === 'timeout' ? `timeout after ${formatDuration(this.timeoutMs)}: ${message}` : message };
    pending.resolve(failedRun(pending.bound, failure, new Date(this.startedAt), this.redactions, pending.options.log, pending.options.failureLevel ?? 'info'));
  }

  log(level: number, msg: string, fields: Record<string, unknown>): void {
    const method = levelName(level);
    if (method !== undefined) this.pending?.options.log[method](fields, msg);
  }

  /**
   * Settled: the listener goes, and so does every reference to the run, its caller and its
   * deadline. Something keeps settled ThreadRun objects reachable for a while (what, a heap
   * snapshot after a full collection did not show): while they held these, each /probe promoted
   * 2 KB to the old space on Node 24 (4-9 MB a scavenge, `--trace-gc-nvp`; test/promotion.test.ts
   * failed); with only numbers left in them, about 10 KB a scavenge, as before this class.
   */
  private settle(): ThreadRun['pending'] {
    const pending = this.pending;
    this.pending = undefined;
    if (this.onAbort) pending?.outer?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
    return pending;
  }
}

function noProbeSamples(): ProbeSample[] {
  return [];
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
