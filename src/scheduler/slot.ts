import cron from 'node-cron';
import type { CheckSpec } from '../checks/registry.js';
import { DEFAULT_INTERVAL_MS } from '../config/base.js';
import { hashName } from './shard.js';

/** Where a check's runs fall in time. */
export interface Timing {
  /** The first slot (epoch ms) strictly after now; undefined when the schedule has none left. */
  next(): number | undefined;
  /**
   * The first run after the check is (re)scheduled: for an interval check, the earlier of its
   * next slot and a point inside the first FIRST_RUN_WINDOW_MS at the same relative offset, so a
   * 1h check shows a result soon after start-up while 10,000 checks still do not fire at once.
   */
  first(): number | undefined;
  /** Releases what the timing holds (a cron matcher); idempotent. */
  dispose(): void;
}

export const FIRST_RUN_WINDOW_MS = 30_000;

// A salt no shard index reaches, so a check's offset says nothing about which shard it is on.
const OFFSET_SALT = 0x6f666673;

/**
 * Where inside each interval a check runs, in ms: a hash of the name, so 10,000 checks at the
 * same interval spread evenly over it, and a restart (or another replica) keeps the same slots.
 */
export function offsetOf(name: string, intervalMs: number): number {
  return Math.floor((hashName(name, OFFSET_SALT) / 2 ** 32) * intervalMs);
}

/** The timing of a check: its cron schedule, else its interval, else the default interval. */
export function createTiming(spec: Pick<CheckSpec, 'name' | 'interval' | 'schedule'>): Timing {
  if (spec.schedule !== undefined) return cronTiming(spec.name, spec.schedule);
  return intervalTiming(spec.name, spec.interval ?? DEFAULT_INTERVAL_MS);
}

/** Slots at k * interval + offset: aligned to the epoch, not to the start of the process. */
function intervalTiming(name: string, intervalMs: number): Timing {
  const offset = offsetOf(name, intervalMs);
  const next = () => (Math.floor((Date.now() - offset) / intervalMs) + 1) * intervalMs + offset;
  return {
    next,
    first: () => (intervalMs <= FIRST_RUN_WINDOW_MS ? next() : Math.min(next(), Date.now() + Math.floor((offset / intervalMs) * FIRST_RUN_WINDOW_MS))),
    dispose: () => undefined,
  };
}

/**
 * node-cron's matcher, used only to compute slots: the task is never started, because one heap
 * timer drives every check, so overlap, the concurrency cap and lag work the same for cron and
 * interval checks. createTask registers the task in node-cron's process-wide registry;
 * destroy() takes it out again.
 */
function cronTiming(name: string, expression: string): Timing {
  const task = cron.createTask(expression, () => undefined, { name: `driftwatch:${name}` });
  let disposed = false;
  const timing: Timing = {
    first: () => timing.next(),
    next() {
      if (disposed) return undefined;
      try {
        return task.getNextRuns(1)[0]?.getTime();
      } catch {
        // node-cron gives up when no date matches within 100 years (say, 30 February).
        return undefined;
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      Promise.resolve(task.destroy()).catch(() => undefined);
    },
  };
  return timing;
}
