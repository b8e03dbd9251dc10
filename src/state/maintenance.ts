import cron from 'node-cron';

/** One maintenance window of a check file (config/base.ts `maintenance`), as parsed. */
export interface MaintenanceWindow {
  /** A 5-field cron expression: when each window starts, read in `timezone`. */
  schedule: string;
  /** How long each window lasts, in ms. */
  duration: number;
  /** An IANA time zone such as Europe/Berlin or UTC. */
  timezone: string;
}

const MINUTE_MS = 60_000;
/** Matchers kept (one per schedule and zone); beyond this the oldest go. */
const MAX_MATCHERS = 1000;

type Matcher = ReturnType<typeof cron.createTask>;
interface Cached {
  matcher: Matcher;
  /** The minute last asked about, per duration, and the answer: a status page asks many times a minute. */
  answers: Map<number, { minute: number; open: boolean }>;
}

const matchers = new Map<string, Cached>();

function cached(window: MaintenanceWindow): Cached {
  const key = `${window.timezone} ${window.schedule}`;
  let found = matchers.get(key);
  if (found === undefined) {
    // The scheduler's reading of cron (scheduler/slot.ts): node-cron, here with the window's zone.
    // A task that is never started, only asked whether a minute matches.
    found = { matcher: cron.createTask(window.schedule, () => undefined, { name: `driftwatch-maintenance:${key}`, timezone: window.timezone }), answers: new Map() };
    matchers.set(key, found);
    if (matchers.size > MAX_MATCHERS) {
      const [oldest] = matchers.entries().next().value ?? [];
      if (oldest !== undefined) {
        Promise.resolve(matchers.get(oldest)?.matcher.destroy()).catch(() => undefined);
        matchers.delete(oldest);
      }
    }
  }
  return found;
}

/**
 * Whether `now` lies in one of the windows: a window opens at each minute its schedule matches
 * and lasts its duration, so it is open when a matching minute lies in (now - duration, now].
 * Minute resolution, like the schedules (5 fields); durations are at most a day, so this asks at
 * most 1,440 minutes, once per minute and window (the answer is kept until the minute ends).
 */
export function inMaintenance(windows: readonly MaintenanceWindow[], now: number): boolean {
  const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  return windows.some((window) => {
    const entry = cached(window);
    const known = entry.answers.get(window.duration);
    if (known !== undefined && known.minute === minute) return known.open;
    let open = false;
    for (let start = minute; start > now - window.duration && !open; start -= MINUTE_MS) open = entry.matcher.match(new Date(start));
    entry.answers.set(window.duration, { minute, open });
    return open;
  });
}

