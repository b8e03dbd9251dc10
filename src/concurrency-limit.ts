/** Thrown when more callers wait than the limit queues: the API answers 429. */
export class BusyError extends Error {
  override name = 'BusyError';
  readonly code = 'DRIFTWATCH_BUSY';
}

export interface ConcurrencyLimit {
  run<T>(task: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

/** At most `max` tasks at once, at most `queue` more waiting in FIFO order; beyond that, BusyError. */
export function createConcurrencyLimit(max: number, queue: number): ConcurrencyLimit {
  let active = 0;
  const waiters: (() => void)[] = [];
  const release = () => {
    active--;
    const next = waiters.shift();
    if (next) {
      active++;
      next();
    }
  };
  return {
    async run(task) {
      if (active >= max) {
        if (waiters.length >= queue) throw new BusyError(`too many on-demand runs (${max} running, ${queue} waiting)`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      } else {
        active++;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
  };
}
