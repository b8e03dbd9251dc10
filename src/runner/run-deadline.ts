import { formatDuration } from '../config/duration.js';
import { EndSource } from '../results/end-signal.js';

/** Why a run was cut short: its time ran out, or whoever asked for it stopped it ("cancelled: ..."). */
export class RunTimeout extends Error {
  override name = 'RunTimeout';
}

/**
 * One run's time limit and cancellation: one timer and one AbortController, made once where the
 * run starts (runCheck, or the daemon's on-demand run, whose wait for a slot counts in the same
 * limit) and handed down, so the slot wait, the runner, the check and its transport all read the
 * same signal. A run used to make four controllers, a composite signal, two timers and four
 * listener pairs on its way from /probe to the socket (issue 29); each cost CPU on every run.
 *
 * Every way a run ends early goes through end(): the timer, cancel() (shutdown, a caller that
 * left), a client library that failed on the peer (run-scope.ts). It aborts the signal, for the
 * check to stop its I/O, and rejects race(), so a check that ignores its signal still ends here.
 */
export class RunDeadline extends EndSource<Error> {
  /** Set when cancel() ended the run: its caller stopped it, not its time limit. */
  cancelled = false;
  /** Made when something reads `signal` (a check on this thread), not before. */
  private controller: AbortController | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  /**
   * `timeoutMs` is the limit the result names; `leftMs`, when less, is what is left of it (a run
   * handed to a run thread after waiting for a slot ends when the caller's deadline would).
   */
  constructor(
    readonly timeoutMs: number,
    leftMs = timeoutMs,
  ) {
    super();
    this.endsAt = performance.now() + leftMs;
    // A module function and an argument, not a closure per run.
    this.timer = setTimeout(expire, leftMs, this);
  }

  /** performance.now() when the time runs out. */
  readonly endsAt: number;

  /**
   * The run's AbortSignal, for the check's I/O; aborted with the reason when the run ends early.
   * Made on first read: a run handed to a run thread needs none here (the deadline's own
   * addEventListener serves the slot wait and the hand-over), and on Node 20 every AbortSignal
   * outlives the young generation, a run's worth of old-space garbage (bench/README.md).
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Ends the run as stopped from outside: its result says "cancelled: <why>". */
  cancel(why: unknown): void {
    if (this.settled) return;
    // Before end(): its listeners read it (a thread's run is told of a cancel, not of a timeout).
    this.cancelled = true;
    this.end(new RunTimeout(`cancelled: ${why instanceof Error ? why.message : String(why)}`));
  }

  /** Every way the run ends early (end(): the timer, cancel(), a peer's crash) stops the timer and aborts the signal first. */
  protected override ending(reason: Error): void {
    clearTimeout(this.timer);
    this.controller?.abort(reason);
  }

  /** The run is over: the timer goes, and a late cancel() or end() (a caller that leaves after its answer) does nothing. */
  dispose(): void {
    this.close();
    clearTimeout(this.timer);
  }
}

function expire(deadline: RunDeadline): void {
  deadline.end(new RunTimeout(`timeout after ${formatDuration(deadline.timeoutMs)}`));
}
