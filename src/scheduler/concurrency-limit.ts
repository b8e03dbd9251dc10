import type { EndSignal } from '../results/end-signal.js';

/** Thrown when more callers wait than the limit queues: the API answers 429. */
export class BusyError extends Error {
  override name = 'BusyError';
  readonly code = 'DRIFTWATCH_BUSY';
}

/** Thrown when a waiter's signal aborts (its deadline passed, or its caller went away) before a slot freed. */
export class SlotWaitAborted extends Error {
  override name = 'SlotWaitAborted';
  constructor(
    cause: unknown,
    /** What the limit looked like when the wait ended, for the message the caller shows. */
    readonly seen: { active: number; waiting: number; max: number; perKey: number },
  ) {
    super(`${seen.active} of ${seen.max} running, ${seen.waiting} waiting, at most ${seen.perKey} at once for one check and target`, { cause });
  }
}

export interface TaskOptions {
  /** Tasks of one key (a check and its target) share `perKey` slots; default: one key for all. */
  key?: string;
  /** Stops waiting when it aborts (the caller's deadline passed, or the caller left): SlotWaitAborted. */
  signal?: EndSignal | undefined;
}

export interface ConcurrencyLimit {
  /** Runs `task` once a slot is free for its key. */
  run<T>(task: () => Promise<T>, options?: TaskOptions): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

interface Waiter {
  key: string;
  start: () => void;
}

/**
 * At most `max` tasks at once and `perKey` for one key, at most `queue` more waiting. A waiter
 * waits until a slot it may take frees up or its own signal aborts, never behind a fixed tiny
 * queue. For on-demand runs: a hanging target's probes wait out their own deadlines (and then
 * answer probe_success 0) while probes of other keys pass them, first come first served among
 * those allowed to start.
 */
export function createConcurrencyLimit(max: number, queue: number, perKey = max): ConcurrencyLimit {
  let active = 0;
  /** Running tasks by key; waiters in arrival order. */
  const perKeyActive = new Map<string, number>();
  const waiters: Waiter[] = [];

  const mayStart = (key: string) => active < max && (perKeyActive.get(key) ?? 0) < perKey;
  const take = (key: string) => {
    active++;
    perKeyActive.set(key, (perKeyActive.get(key) ?? 0) + 1);
  };
  const release = (key: string) => {
    active--;
    const left = (perKeyActive.get(key) ?? 1) - 1;
    if (left === 0) perKeyActive.delete(key);
    else perKeyActive.set(key, left);
    // The first waiter allowed to start goes; one of a saturated key lets the others pass.
    for (let i = 0; i < waiters.length && active < max; ) {
      const waiter = waiters[i];
      if (waiter && mayStart(waiter.key)) {
        waiters.splice(i, 1);
        take(waiter.key);
        waiter.start();
      } else {
        i++;
      }
    }
  };

  const wait = (key: string, signal: EndSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => ({ active, waiting: waiters.length, max, perKey });
      if (signal?.aborted) {
        reject(new SlotWaitAborted(signal.reason, seen()));
        return;
      }
      const waiter: Waiter = {
        key,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
        reject(new SlotWaitAborted(signal?.reason, seen()));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });

  /** Runs a task that holds a slot and frees the slot when it settles: one promise reaction, no async wrapper. */
  const hold = <T>(task: () => Promise<T>, key: string): Promise<T> => {
    let running: Promise<T>;
    try {
      running = task();
    } catch (err) {
      release(key);
      return rejection(err);
    }
    return running.then(
      (value) => {
        release(key);
        return value;
      },
      (err: unknown) => {
        release(key);
        throw err;
      },
    );
  };

  return {
    run(task, { key = '', signal } = {}) {
      // A free slot (the common case) starts the task at once, inside this call.
      if (mayStart(key)) {
        take(key);
        return hold(task, key);
      }
      if (waiters.length >= queue) return Promise.reject(new BusyError(`too many on-demand runs (${active} running, ${waiters.length} waiting)`));
      // wait() took the slot for us when it started us.
      return wait(key, signal).then(() => hold(task, key));
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiters.length;
    },
  };
}

/** A task that threw before it returned its promise fails like one whose promise rejected. */
async function rejection(err: unknown): Promise<never> {
  throw err;
}
