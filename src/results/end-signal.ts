/**
 * The part of an AbortSignal that a run's I/O reads: whether and why the run ended early, and a
 * listener for when it does. The runner's RunDeadline is one without making an AbortSignal (on
 * Node 20 every AbortSignal outlives the young generation and keeps the run's objects with it:
 * bench/README.md, "Allocation per probe"); an AbortSignal is one too, so a caller may pass either.
 */
export interface EndSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * An EndSignal ended by hand, the mechanism under the runner's RunDeadline and a DNS query's
 * LinkedEnd: the first end() wins, each listener runs once, and after close() nothing ends it or
 * waits on it any more. Listeners are a plain list: no AbortSignal is made (see above), and any
 * number may wait without the warning Node gives past 10 on an AbortSignal.
 */
export class EndSource<R = unknown> implements EndSignal {
  private why: R | undefined;
  private ended = false;
  private closed = false;
  private listeners: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.ended;
  }

  /** Why it ended; undefined while it has not. */
  get reason(): R | undefined {
    return this.why;
  }

  /** Ends now with this reason and tells the listeners; false (and nothing) when ended or closed already. */
  end(reason: R): boolean {
    if (this.ended || this.closed) return false;
    this.ended = true;
    this.why = reason;
    this.ending(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
    return true;
  }

  /** `listener` runs once, when it ends (not after close()); every listener is a `once` one. */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (!this.ended && !this.closed) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners?.splice(at, 1);
  }

  /**
   * Settles as the promise does, or rejects with the reason as soon as this ends: work that
   * ignores its end still stops being waited for. One race per end (the work it bounds); a later
   * rejection of the promise is still handled. `asError` makes the rejection of a reason that is
   * not an Error (an AbortSignal's caller may give anything).
   */
  race<T>(promise: Promise<T>, asError: (reason: unknown) => Error = plainError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      promise.then(resolve, reject);
      const rejectEnded = () => {
        reject(this.why instanceof Error ? this.why : asError(this.why));
      };
      if (this.ended) rejectEnded();
      else this.addEventListener('abort', rejectEnded);
    });
  }

  /** What a subclass does as it ends, before the listeners hear of it (stop its timer, abort its signal). */
  protected ending(_reason: R): void {}

  /** Whether end() would do nothing now (ended, or closed). */
  protected get settled(): boolean {
    return this.ended || this.closed;
  }

  /** Over: a later end() does nothing, and the listeners are dropped. */
  protected close(): void {
    this.closed = true;
    this.listeners = undefined;
  }
}

function plainError(reason: unknown): Error {
  return new Error(String(reason));
}
