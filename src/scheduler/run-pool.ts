import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { IdTable } from '../runner/id-table.js';

/** One run waiting for, or holding, a place in the pool. */
export interface Job {
  /** For the log line when run rejects. */
  name: string;
  /** The run itself; the signal aborts it when the pool closes and the grace period is over. */
  run(signal: AbortSignal): Promise<void>;
  /** Called instead of run when the pool closes before the job got a place. */
  drop(): void;
}

export interface RunPool {
  /** Starts the job now when a place is free, else queues it (first in, first out). */
  submit(job: Job): void;
  readonly active: number;
  /** Drops waiting jobs, lets active ones finish for graceMs, aborts the rest; resolves when all settled. */
  close(graceMs: number): Promise<void>;
}

interface Active {
  done: Promise<void>;
}

/**
 * The global concurrency cap of scheduled runs, and the only place that awaits them: every run
 * is tracked until it settles, its rejection is logged (never lost), and close() can abort it.
 */
export function createRunPool(concurrency: number, log: Logger): RunPool {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`scheduler concurrency must be a positive integer, got ${concurrency}`);
  }
  const waiting: Job[] = [];
  // Runs in flight, in an IdTable rather than a Set that gains and loses one per run (id-table.ts).
  const active = new IdTable<Active>();
  // One signal for every run: close() aborts all the active runs at once, with one reason (a
  // controller per run was ~1.5 KB of garbage for each of 1,667 runs a second at 100,000 checks).
  const shutdown = new AbortController();
  // Each active run listens to it: as many listeners as runs, which is no leak.
  setMaxListeners(0, shutdown.signal);
  let closed = false;
  let starting = false;

  const start = (job: Job): void => {
    const place: Active = { done: Promise.resolve() };
    // Tracked before run is called: a run that throws synchronously is removed again in finally.
    const id = active.add(place);
    place.done = settle(job, id);
  };

  const settle = async (job: Job, id: number): Promise<void> => {
    try {
      await job.run(shutdown.signal);
    } catch (err) {
      log.error({ err, check: job.name }, 'scheduled run rejected (the runner should have turned this into a result)');
    } finally {
      active.take(id);
      startWaiting();
    }
  };

  const startWaiting = (): void => {
    // Not re-entered: runs failing synchronously would otherwise recurse once per waiting job.
    if (starting) return;
    starting = true;
    try {
      while (!closed && active.size < concurrency) {
        const job = waiting.shift();
        if (job === undefined) return;
        start(job);
      }
    } finally {
      starting = false;
    }
  };

  return {
    submit(job) {
      if (closed) {
        job.drop();
      } else if (active.size < concurrency && waiting.length === 0) {
        start(job);
      } else {
        waiting.push(job);
      }
    },

    get active() {
      return active.size;
    },

    async close(graceMs) {
      closed = true;
      for (const job of waiting.splice(0)) job.drop();
      const all = Promise.all([...active.values()].map((place) => place.done));
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => {
        graceTimer = setTimeout(() => {
          resolve('grace over');
        }, Math.max(0, graceMs));
      });
      const first = await Promise.race([all, graceOver]);
      clearTimeout(graceTimer);
      if (first === 'grace over' && active.size > 0) {
        log.warn({ aborted: active.size, graceMs }, 'grace period over: aborting running checks');
        shutdown.abort(new Error('daemon shutting down'));
        await all;
      }
    },
  };
}
