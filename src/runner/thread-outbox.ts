import type { FromThread } from './run-thread-protocol.js';

/**
 * What a run thread tells the daemon's thread, in order, some of it a few at a time. A message
 * that wakes an idle thread costs its sender a cross-CPU wake-up: on this project's VMs about
 * 20 us, as much as a tenth of a scheduled http run (bench/README.md, "Scheduled runs"). So a
 * scheduled run's answer, a log line or a credential to scrub waits up to `delayMs` for others
 * to go with it, as one `batch`; an urgent message (a /probe answer, whose caller waits; the
 * thread's start and its end) goes at once, with whatever waited before it; so does whatever
 * waits when a message from the daemon's thread comes (both threads are awake then; run-thread.ts
 * flushes), and when the thread's last run in flight ends (the runs a scheduler tick started
 * answer in one message as soon as all have ended): at 500 scheduled runs a second the 5 ms
 * timer then seldom fires.
 * Order is kept: the daemon's thread reads a batch's messages in turn, and the sample shapes
 * (sample-shapes.ts) rely on that.
 */
export class ThreadOutbox {
  private waiting: FromThread[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (message: FromThread) => void,
    private readonly delayMs: number,
    /**
     * A message that cannot be sent (not cloneable: a bug, the runner's results are plain
     * data): what to send in its place, or nothing. Told before the messages after it go.
     */
    private readonly unsendable: (message: FromThread, err: unknown) => FromThread | undefined,
  ) {}

  post(message: FromThread, urgent: boolean): void {
    this.waiting.push(message);
    if (urgent || this.delayMs <= 0) this.flush();
    else this.timer ??= setTimeout(flushOutbox, this.delayMs, this);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
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

  private sendOne(message: FromThread): void {
    try {
      this.send(message);
    } catch (err) {
      this.replace(message, err);
    }
  }

  private replace(message: FromThread | undefined, err: unknown): void {
    const instead = message === undefined ? undefined : this.unsendable(message, err);
    if (instead !== undefined) this.send(instead);
  }
}

function flushOutbox(outbox: ThreadOutbox): void {
  outbox.flush();
}
