import cron from 'node-cron';
import type { CheckSpec } from '../checks/registry.js';
import { DEFAULT_INTERVAL_MS } from '../config/base.js';
import { hashName } from './shard.js';

export const FIRST_RUN_WINDOW_MS = 30_000;
/** First runs a second at most when many checks start at once: 10,000 within FIRST_RUN_WINDOW_MS. */
export const FIRST_RUNS_PER_SECOND = 10_000 / (FIRST_RUN_WINDOW_MS / 1000);

/**
 * The window the first runs of `count` checks (re)scheduled at once spread over: 30 s up to
 * 10,000 checks, longer past that, so 100,000 checks starting together do not ask for 3,333 runs
 * a second (twice the steady rate of a 60 s interval) until a backlog builds.
 */
export function firstRunWindow(count: number): number {
  return Math.max(FIRST_RUN_WINDOW_MS, Math.ceil(count / FIRST_RUNS_PER_SECOND) * 1000);
}

/**
 * Slots lie on a grid of TICK_MS: a check's slot is the first grid point at or after the moment its
 * interval (or cron schedule) names. Runs of nearby slots then start together: one timer
 * wake-up of the daemon's thread and one of a run thread for all of them, and their answers
 * cross back together (thread-outbox.ts). A 5 ms grid cut a scheduled http run's CPU 14 % at 500
 * runs a second and 22 % at 2,000 on a 2-core VM; 20 ms another third at 500 a second
 * (bench/README.md, "Slots on a grid", "A coarser grid"). A run starts less than TICK_MS after
 * its interval's point, and its lag is still measured against its slot. Not coarser: at 100,000
 * checks a minute a tick starts some 33 runs, under the 64 that run at once by default; at 50 ms
 * it would be 83, and runs would wait for each other every tick.
 */
export const TICK_MS = 20;

/** The grid point at or after `at` (epoch ms). */
function onGrid(at: number): number {
  return Math.ceil(at / TICK_MS) * TICK_MS;
}

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

/** One cron expression's matcher, shared by the checks that use it, with its last answer. */
interface CronMatcher {
  task: CronTask;
  users: number;
  /** The last next slot found, and when: it holds for any moment from then until that slot. */
  next: number | undefined;
  foundAt: number;
}

/**
 * node-cron's matchers, used only to compute slots: a task is never started, because one heap
 * timer drives every check, so overlap, the concurrency cap and lag work the same for cron and
 * interval checks. One matcher per expression, shared by its checks: a task is ~2.5 KB of heap
 * and ~50 us to make, and finding its next date ~80 us, so 100,000 checks on one schedule cost
 * 250 MB and seconds of CPU per reload with a task each. createTask registers the task in
 * node-cron's process-wide registry; destroy() takes it out again, with the expression's last user.
 */
export class CronMatchers {
  private readonly matchers = new Map<string, CronMatcher>();

  acquire(expression: string): CronMatcher {
    let matcher = this.matchers.get(expression);
    if (matcher === undefined) {
      matcher = { task: cron.createTask(expression, () => undefined, { name: `driftwatch:${expression}` }), users: 0, next: undefined, foundAt: 0 };
      this.matchers.set(expression, matcher);
    }
    matcher.users++;
    return matcher;
  }

  release(expression: string): void {
    const matcher = this.matchers.get(expression);
    if (matcher === undefined || --matcher.users > 0) return;
    this.matchers.delete(expression);
    Promise.resolve(matcher.task.destroy()).catch(() => undefined);
  }

  /** The first slot strictly after now; undefined when the expression has none left. */
  next(matcher: CronMatcher): number | undefined {
    const now = Date.now();
    // No slot lies between foundAt and next (next was the first after foundAt): it still is the first after now.
    if (matcher.next !== undefined && now >= matcher.foundAt && now < matcher.next) return matcher.next;
    try {
      matcher.next = matcher.task.getNextRuns(1)[0]?.getTime();
    } catch {
      // node-cron gives up when no date matches within 100 years (say, 30 February).
      matcher.next = undefined;
    }
    // Taken after the search, which reads the clock itself: no slot can lie between the two.
    matcher.foundAt = Date.now();
    return matcher.next;
  }
}

/**
 * Where a check's runs fall in time: its interval and offset, or its cron expression. Numbers and
 * one object rather than closures: at 100,000 checks the closures were some 300 bytes a check.
 */
export class Timing {
  private constructor(
    private readonly intervalMs: number,
    private readonly offset: number,
    private cron: { matchers: CronMatchers; expression: string; matcher: CronMatcher } | undefined,
  ) {}

  /** The timing of a check: its cron schedule, else its interval, else the default interval. */
  static of(spec: Pick<CheckSpec, 'name' | 'interval' | 'schedule'>, matchers: CronMatchers): Timing {
    if (spec.schedule !== undefined) return new Timing(0, 0, { matchers, expression: spec.schedule, matcher: matchers.acquire(spec.schedule) });
    const intervalMs = spec.interval ?? DEFAULT_INTERVAL_MS;
    return new Timing(intervalMs, offsetOf(spec.name, intervalMs), undefined);
  }

  /** The first slot (epoch ms) strictly after now; undefined when the schedule has none left (or the timing was disposed). */
  next(): number | undefined {
    if (this.intervalMs === 0) {
      const slot = this.cron?.matchers.next(this.cron.matcher);
      return slot === undefined ? undefined : onGrid(slot);
    }
    // Slots at k * interval + offset: aligned to the epoch, not to the start of the process.
    return onGrid((Math.floor((Date.now() - this.offset) / this.intervalMs) + 1) * this.intervalMs + this.offset);
  }

  /**
   * The first run after the check is (re)scheduled: for an interval check, the earlier of its
   * next slot and a point inside the first `windowMs` (firstRunWindow) at the same relative
   * offset, so a 1h check shows a result soon after start-up while 10,000 checks still do not
   * fire at once.
   */
  first(windowMs = FIRST_RUN_WINDOW_MS): number | undefined {
    const next = this.next();
    if (this.intervalMs <= windowMs || next === undefined) return next;
    return Math.min(next, onGrid(Date.now() + Math.floor((this.offset / this.intervalMs) * windowMs)));
  }

  /** Releases what the timing holds (its share of a cron matcher); idempotent. */
  dispose(): void {
    const held = this.cron;
    if (held === undefined) return;
    this.cron = undefined;
    held.matchers.release(held.expression);
  }
}
