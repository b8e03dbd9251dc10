import cron from 'node-cron';
import type { CheckSpec } from '../checks/registry.js';
import { DEFAULT_INTERVAL_MS } from '../config/base.js';
import { hashName } from './shard.js';

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

/** A node-cron task used only as a matcher: its next runs. */
type CronTask = ReturnType<typeof cron.createTask>;

/**
 * Where a check's runs fall in time: its interval and offset, or its cron matcher. Numbers and
 * one object rather than closures: at 100,000 checks the closures were some 300 bytes a check.
 */
export class Timing {
  private constructor(
    private readonly intervalMs: number,
    private readonly offset: number,
    private task: CronTask | undefined,
  ) {}

  /** The timing of a check: its cron schedule, else its interval, else the default interval. */
  static of(spec: Pick<CheckSpec, 'name' | 'interval' | 'schedule'>): Timing {
    if (spec.schedule !== undefined) return new Timing(0, 0, cronTask(spec.name, spec.schedule));
    const intervalMs = spec.interval ?? DEFAULT_INTERVAL_MS;
    return new Timing(intervalMs, offsetOf(spec.name, intervalMs), undefined);
  }

  /** The first slot (epoch ms) strictly after now; undefined when the schedule has none left. */
  next(): number | undefined {
    if (this.intervalMs === 0) return this.nextCron();
    // Slots at k * interval + offset: aligned to the epoch, not to the start of the process.
    return (Math.floor((Date.now() - this.offset) / this.intervalMs) + 1) * this.intervalMs + this.offset;
  }

  /**
   * The first run after the check is (re)scheduled: for an interval check, the earlier of its
   * next slot and a point inside the first FIRST_RUN_WINDOW_MS at the same relative offset, so a
   * 1h check shows a result soon after start-up while 10,000 checks still do not fire at once.
   */
  first(): number | undefined {
    const next = this.next();
    if (this.intervalMs <= FIRST_RUN_WINDOW_MS || next === undefined) return next;
    return Math.min(next, Date.now() + Math.floor((this.offset / this.intervalMs) * FIRST_RUN_WINDOW_MS));
  }

  /** Releases what the timing holds (a cron matcher); idempotent. */
  dispose(): void {
    const { task } = this;
    if (task === undefined) return;
    this.task = undefined;
    Promise.resolve(task.destroy()).catch(() => undefined);
  }

  private nextCron(): number | undefined {
    try {
      return this.task?.getNextRuns(1)[0]?.getTime();
    } catch {
      // node-cron gives up when no date matches within 100 years (say, 30 February).
      return undefined;
    }
  }
}

/**
 * node-cron's matcher, used only to compute slots: the task is never started, because one heap
 * timer drives every check, so overlap, the concurrency cap and lag work the same for cron and
 * interval checks. createTask registers the task in node-cron's process-wide registry;
 * destroy() takes it out again.
 */
function cronTask(name: string, expression: string): CronTask {
  return cron.createTask(expression, () => undefined, { name: `driftwatch:${name}` });
}
