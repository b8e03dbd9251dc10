import { EndSource, type EndSignal } from '../results/end-signal.js';

/**
 * An end of its own inside a caller's, as a DNS query's time limit inside its run: it ends when
 * the caller's end does, with that reason, or when its time (if it has a limit) runs out, with
 * the reason `expired` gives. At most one timer and no AbortSignal: on Node 20 every AbortSignal
 * outlives the young generation and keeps what it references with it (results/end-signal.ts),
 * and a query made one (and a listener on the run's) for every resolver asked.
 */
export class LinkedEnd extends EndSource {
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOuter = () => {
    this.end(this.outer.reason);
  };

  constructor(
    private readonly outer: EndSignal,
    limit?: { ms: number; expired: () => unknown },
  ) {
    super();
    if (limit !== undefined) {
      this.timer = setTimeout(() => {
        this.end(limit.expired());
      }, limit.ms);
    }
    if (outer.aborted) this.end(outer.reason);
    else outer.addEventListener('abort', this.onOuter, { once: true });
  }

  /** Whether the caller's end, not the time limit, ended this one. */
  get endedByCaller(): boolean {
    return this.aborted && this.outer.aborted;
  }

  /** Done with: the timer and the listener on the caller's end go. */
  dispose(): void {
    this.close();
    clearTimeout(this.timer);
    this.outer.removeEventListener('abort', this.onOuter);
  }

  protected override ending(): void {
    clearTimeout(this.timer);
  }
}
