import type { FromThread } from './run-thread-protocol.js';

/** Several messages of one direction, in the order posted. */
export interface Batch<M> {
  t: 'batch';
  messages: M[];
}

/**
 * What one thread tells the other, in order, some of it a few at a time: a message that wakes
 * an idle thread costs a cross-CPU wake-up, on this project's VMs about 20 us, as much as a
 * tenth of a scheduled http run (bench/README.md, "Scheduled runs"). Non-urgent messages wait
 * for others to go with them, as one `batch`, until `wait` is over:
 *
 * - a number of ms (a run thread's answers, log lines and credentials to scrub): an urgent
 *   message (a /probe answer, whose caller waits; the thread's start and its end) goes at once,
 *   with whatever waited before it; so does whatever waits when a message from the daemon's
 *   thread comes (both threads are awake then) and when the thread's last run in flight ends
 *   (run-thread.ts flushes): at 500 scheduled runs a second the timer then seldom fires;
 * - 'turn' (the daemon's thread to a run thread: runs, cancels): the end of the current turn of
 *   the event loop, so the runs a scheduler tick starts and a cancel after them cross together
 *   (thread-handle.ts).
 *
 * Order is kept: the other thread reads a batch's messages in turn, and the sample shapes
 * (sample-shapes.ts) rely on that.
 */
export class ThreadOutbox<M extends { t: string } = FromThread> {
  private waiting: M[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued = false;
  /** For the timer and the microtask: made once, not per batch. */
  private readonly flushLater = (): void => {
    this.flush();
  };

  constructor(
    private readonly send: (message: M | Batch<M>) => void,
    private readonly wait: number | 'turn',
    /**
     * A message that cannot be sent (not cloneable: a bug, messages are plain data): what to
     * send in its place, or nothing. Told before the messages after it go.
     */
    private readonly unsendable: (message: M, err: unknown) => M | undefined,
  ) {}

  post(message: M, urgent = false): void {
    this.waiting.push(message);
    if (urgent || (this.wait !== 'turn' && this.wait <= 0)) {
      this.flush();
    } else if (this.wait === 'turn') {
      if (!this.queued) queueMicrotask(this.flushLater);
      this.queued = true;
    } else {
      this.timer ??= setTimeout(this.flushLater, this.wait);
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queued = false;
    const messages = this.waiting;
    if (messages.length === 0) return;
    this.waiting = [];
    try {
      this.send(messages.length === 1 && messages[0] !== undefined ? messages[0] : { t: 'batch', messages });
    } catch (err) {
      // One at a time, to know which: the others still go, in order.
      if (messages.length === 1) this.replace(messages[0], err);
      else for (const message of messages) this.sendOne(message);
    }
  }

  private sendOne(message: M): void {
    try {
      this.send(message);
    } catch (err) {
      this.replace(message, err);
    }
  }

  private replace(message: M | undefined, err: unknown): void {
    const instead = message === undefined ? undefined : this.unsendable(message, err);
    if (instead !== undefined) this.send(instead);
  }
}
