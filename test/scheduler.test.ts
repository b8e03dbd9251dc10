import cron from 'node-cron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_INTERVAL_MS } from '../src/config/base.js';
import type { LoadedCheck } from '../src/checks/registry.js';
import { createScheduler, type Scheduler } from '../src/scheduler/scheduler.js';
import { FIRST_RUN_WINDOW_MS, firstRunWindow, TICK_MS } from '../src/scheduler/slot.js';
import { memoryLogger, parseChecks } from './support/checks.js';

// A round moment: every interval used below divides it, so slots can be reasoned about from here.
const EPOCH = Date.parse('2030-01-01T00:00:00Z');

function tcp(name: string, timing = 'interval: 10s'): string {
  return `  - { name: ${name}, type: tcp, host: 127.0.0.1, port: 9, ${timing}, timeout: 1s }\n`;
}

function checks(...lines: string[]): LoadedCheck[] {
  return parseChecks(`checks:\n${lines.join('')}`);
}

interface Start {
  name: string;
  at: number;
  check: LoadedCheck;
}

/** A scheduler whose runs sleep (fake time) for runMs(name), or until aborted when that is Infinity. */
function harness(options: { concurrency?: number; runMs?: (name: string) => number; fail?: (name: string) => boolean } = {}) {
  const starts: Start[] = [];
  const finished: { name: string; aborted: boolean; at: number }[] = [];
  const lags: { name: string; seconds: number }[] = [];
  const skips: string[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const { log, lines } = memoryLogger();
  const scheduler = createScheduler({
    concurrency: options.concurrency ?? 1000,
    log,
    onLag: (seconds, check) => lags.push({ name: check.spec.name, seconds }),
    onSkip: (check) => skips.push(check.spec.name),
    async execute(check, signal) {
      const { name } = check.spec;
      starts.push({ name, at: Date.now(), check });
      maxConcurrent = Math.max(maxConcurrent, ++concurrent);
      try {
        await sleep(options.runMs?.(name) ?? 1, signal);
        if (options.fail?.(name)) throw new Error(`run of ${name} blew up`);
      } finally {
        concurrent--;
        finished.push({ name, aborted: signal.aborted, at: Date.now() });
      }
    },
  });
  created.push(scheduler);
  const startsOf = (name: string) => starts.filter((s) => s.name === name);
  return { scheduler, starts, startsOf, finished, lags, skips, lines, maxConcurrent: () => maxConcurrent };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Advances fake time to an absolute moment, running timers and the promises they settle. */
async function advanceTo(at: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(at - Date.now());
}

const created: Scheduler[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(EPOCH);
});

afterEach(async () => {
  const stopped = Promise.all(created.splice(0).map((s) => s.stop(0)));
  await vi.advanceTimersByTimeAsync(1);
  await stopped;
  vi.useRealTimers();
});

describe('scheduler', () => {
  it('never overlaps runs of one check: a slot during a slow run is skipped', async () => {
    const h = harness({ runMs: () => 25_000 });
    h.scheduler.update(checks(tcp('a')));
    h.scheduler.start();
    const first = h.scheduler.nextRunAt('a')?.getTime() ?? NaN;
    expect(first).toBeGreaterThan(EPOCH);
    expect(first).toBeLessThanOrEqual(EPOCH + 10_000);

    await advanceTo(first + 35_000);
    // Runs at the slot, 25 s long: the slots 10 s and 20 s later find it running.
    expect(h.starts.map((s) => s.at - first)).toEqual([0, 30_000]);
    expect(h.skips).toEqual(['a', 'a']);
    expect(h.lags.map((l) => l.seconds)).toEqual([0, 0]);
    expect(h.scheduler.nextRunAt('a')?.getTime()).toBe(first + 40_000);
  });

  it('after a stall runs a late check once and moves on to its next future slot', async () => {
    const h = harness();
    h.scheduler.update(checks(tcp('a')));
    h.scheduler.start();
    const first = h.scheduler.nextRunAt('a')?.getTime() ?? NaN;
    // The clock jumps 95 s while no timer fires: what a blocked event loop looks like.
    vi.setSystemTime(EPOCH + 95_000);
    await vi.advanceTimersByTimeAsync(first - EPOCH);
    expect(h.starts).toHaveLength(1);
    const stalledAt = h.starts[0]?.at ?? NaN;
    expect(stalledAt - first).toBeGreaterThan(90_000);
    expect(h.lags[0]?.seconds).toBe((stalledAt - first) / 1000);
    const next = h.scheduler.nextRunAt('a')?.getTime() ?? NaN;
    expect(next).toBeGreaterThan(stalledAt);
    expect(next - stalledAt).toBeLessThanOrEqual(10_000);
    expect((next - first) % 10_000).toBe(0);
    await advanceTo(next);
    expect(h.starts).toHaveLength(2);
  });

  it('spreads 1,000 checks of one interval evenly over it, at offsets stable across instances', async () => {
    const [template] = checks(tcp('template'));
    const many = Array.from({ length: 1000 }, (_, i): LoadedCheck => ({ ...template!, spec: { ...template!.spec, name: `check-${i}` } }));
    const h = harness();
    h.scheduler.update(many);
    h.scheduler.start();
    await advanceTo(EPOCH + 10_000);
    expect(h.starts).toHaveLength(1000);
    expect(new Set(h.starts.map((s) => s.name)).size).toBe(1000);
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const start of h.starts) tenths[Math.floor(((start.at - EPOCH - 1) % 10_000) / 1000)]!++;
    for (const count of tenths) {
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(200);
    }
    // On the grid of TICK_MS: nearby slots start together (one wake-up for all of them).
    expect(h.starts.filter((start) => start.at % TICK_MS !== 0)).toEqual([]);

    // A new instance (a restart 12.3 s later) finds the same slots.
    vi.setSystemTime(EPOCH + 12_345);
    const again = harness();
    again.scheduler.update(many);
    const moved = h.starts.filter((start) => {
      const next = again.scheduler.nextRunAt(start.name)?.getTime() ?? NaN;
      return next <= Date.now() || (next - start.at) % 10_000 !== 0;
    });
    expect(moved).toEqual([]);
    // Pinned: a changed hash would move every check of every deployment.
    expect(again.scheduler.nextRunAt('check-0')?.toISOString()).toMatchInlineSnapshot(`"2030-01-01T00:00:17.720Z"`);
  });

  it('uses the default interval for a check with neither interval nor schedule', async () => {
    const h = harness();
    h.scheduler.update(checks('  - { name: plain, type: tcp, host: 127.0.0.1, port: 9 }\n'));
    h.scheduler.start();
    await advanceTo(EPOCH + 3 * DEFAULT_INTERVAL_MS);
    // One early first run inside the first-run window, then the three slots of the grid.
    expect(h.starts).toHaveLength(4);
    expect((h.starts[0]?.at ?? Infinity) - EPOCH).toBeLessThan(FIRST_RUN_WINDOW_MS);
    expect((h.starts[2]?.at ?? 0) - (h.starts[1]?.at ?? 0)).toBe(DEFAULT_INTERVAL_MS);
  });

  it('runs a long-interval check once soon after start, spread over the first-run window, then on its grid', async () => {
    const h = harness();
    const hourly = Array.from({ length: 200 }, (_, i) => tcp(`hourly-${i}`, 'interval: 1h')).join('');
    h.scheduler.update(checks(hourly));
    h.scheduler.start();
    await advanceTo(EPOCH + FIRST_RUN_WINDOW_MS);
    // Every check has run once (a few whose grid slot also falls in the window run twice).
    const firstStarts = new Map<string, number>();
    for (const start of h.starts) if (!firstStarts.has(start.name)) firstStarts.set(start.name, start.at);
    expect(firstStarts.size).toBe(200);
    expect(h.starts.length).toBeLessThan(210);
    const firstHalf = [...firstStarts.values()].filter((at) => at - EPOCH < FIRST_RUN_WINDOW_MS / 2).length;
    expect(firstHalf).toBeGreaterThan(60);
    expect(firstHalf).toBeLessThan(140);
  });

  it('spreads the first runs of more than 10,000 checks over a longer window, at most 10,000 per 30 s', async () => {
    expect([1, 10_000, 15_000, 100_000].map(firstRunWindow)).toEqual([30_000, 30_000, 45_000, 300_000]);
    const h = harness();
    const hourly = Array.from({ length: 15_000 }, (_, i) => tcp(`hourly-${i}`, 'interval: 1h')).join('');
    h.scheduler.update(checks(hourly));
    h.scheduler.start();
    await advanceTo(EPOCH + 45_000);
    const firstStarts = new Map<string, number>();
    for (const start of h.starts) if (!firstStarts.has(start.name)) firstStarts.set(start.name, start.at - EPOCH);
    expect(firstStarts.size).toBe(15_000);
    // Evenly: a third of them in the last third of the 45 s, about 333 a second in every 5 s.
    const late = [...firstStarts.values()].filter((at) => at >= 30_000).length;
    expect(late).toBeGreaterThan(4500);
    expect(late).toBeLessThan(5500);
  }, 60_000);

  it('fires a cron schedule at its slots: every second', async () => {
    const h = harness();
    h.scheduler.update(checks(tcp('every-second', 'schedule: "* * * * * *"')));
    h.scheduler.start();
    expect(h.scheduler.nextRunAt('every-second')?.getTime()).toBe(EPOCH + 1000);
    await advanceTo(EPOCH + 5_500);
    expect(h.starts.map((s) => s.at - EPOCH)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(h.lags.every((l) => l.seconds === 0)).toBe(true);
  });

  it('gives checks on one cron schedule one node-cron matcher, kept while one of them uses it', async () => {
    const h = harness();
    const every2s = 'schedule: "*/2 * * * * *"';
    h.scheduler.update(checks(tcp('a', every2s), tcp('b', every2s), tcp('c', 'schedule: "*/3 * * * * *"')));
    h.scheduler.start();
    expect(cron.getTasks().size).toBe(2);
    await advanceTo(EPOCH + 4_500);
    expect(h.starts.map((s) => [s.name, s.at - EPOCH])).toEqual([['a', 2000], ['b', 2000], ['c', 3000], ['a', 4000], ['b', 4000]]);
    h.scheduler.update(checks(tcp('b', every2s)));
    expect(cron.getTasks().size).toBe(1);
    await advanceTo(EPOCH + 8_500);
    expect(h.starts.slice(5).map((s) => [s.name, s.at - EPOCH])).toEqual([['b', 6000], ['b', 8000]]);
    h.scheduler.update([]);
    expect(cron.getTasks().size).toBe(0);
  });

  it('caps concurrency: queued runs start in FIFO order and their lag includes the wait', async () => {
    const h = harness({ concurrency: 1, runMs: () => 2000 });
    const every10s = 'schedule: "*/10 * * * * *"';
    h.scheduler.update(checks(tcp('a', every10s), tcp('b', every10s), tcp('c', every10s)));
    h.scheduler.start();
    await advanceTo(EPOCH + 10_000);
    expect(h.scheduler.inFlight).toBe(1);
    await advanceTo(EPOCH + 16_000);
    expect(h.starts.map((s) => [s.name, s.at - EPOCH])).toEqual([['a', 10_000], ['b', 12_000], ['c', 14_000]]);
    expect(h.lags).toEqual([{ name: 'a', seconds: 0 }, { name: 'b', seconds: 2 }, { name: 'c', seconds: 4 }]);
    expect(h.maxConcurrent()).toBe(1);
  });

  it('update() keeps unchanged checks, reschedules changed ones, adds new ones and drops removed ones', async () => {
    const h = harness({ runMs: (name) => (name === 'a' || name === 'c' ? 15_000 : 1) });
    h.scheduler.update(checks(tcp('a'), tcp('b'), tcp('c')));
    h.scheduler.start();
    const reloadAt = EPOCH + 10_000;
    await advanceTo(reloadAt);
    expect(h.starts.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
    expect(h.scheduler.inFlight).toBe(2);
    const nextA = h.scheduler.nextRunAt('a')?.getTime();

    // A reload parses the files again: new objects, and a's spec is equal.
    const reloaded = checks(tcp('a'), tcp('b', 'interval: 20s'), tcp('d'));
    h.scheduler.update(reloaded);
    expect(h.scheduler.nextRunAt('a')?.getTime()).toBe(nextA);
    expect(h.scheduler.nextRunAt('c')).toBeUndefined();
    expect(h.scheduler.nextRunAt('d')?.getTime()).toBeGreaterThan(reloadAt);
    expect(h.scheduler.nextRunAt('b')?.getTime()).toBeGreaterThan(reloadAt);

    await advanceTo(reloadAt + 60_000);
    // a's run from before the reload was still going at its next slot: kept running state, skipped.
    expect(h.skips[0]).toBe('a');
    expect(h.startsOf('a').at(-1)?.check).toBe(reloaded[0]);
    expect(h.startsOf('b').filter((s) => s.at > reloadAt)).toHaveLength(3);
    const bAfter = h.startsOf('b').filter((s) => s.at > reloadAt);
    expect((bAfter[1]?.at ?? 0) - (bAfter[0]?.at ?? 0)).toBe(20_000);
    expect(h.startsOf('d')).toHaveLength(6);
    // c no longer runs, but its run in flight at the reload finished normally.
    expect(h.startsOf('c')).toHaveLength(1);
    expect(h.finished.filter((f) => f.name === 'c')).toEqual([{ name: 'c', aborted: false, at: (h.startsOf('c')[0]?.at ?? 0) + 15_000 }]);
  });

  it('stop(grace) drops queued runs, lets runs finish within grace and aborts the rest', async () => {
    const every10s = 'schedule: "*/10 * * * * *"';
    const h = harness({ concurrency: 2, runMs: (name) => (name === 'fast' ? 2000 : Infinity) });
    h.scheduler.update(checks(tcp('fast', every10s), tcp('slow', every10s), tcp('queued', every10s)));
    h.scheduler.start();
    expect(h.scheduler.running).toBe(true);
    await advanceTo(EPOCH + 10_000);
    expect(h.starts.map((s) => s.name)).toEqual(['fast', 'slow']);

    let stopped = false;
    const stopping = h.scheduler.stop(5000).then(() => {
      stopped = true;
    });
    expect(h.scheduler.running).toBe(false);
    expect(h.scheduler.nextRunAt('fast')).toBeUndefined();
    await advanceTo(EPOCH + 14_999);
    expect(h.finished).toEqual([{ name: 'fast', aborted: false, at: EPOCH + 12_000 }]);
    expect(stopped).toBe(false);
    expect(h.scheduler.inFlight).toBe(1);

    await advanceTo(EPOCH + 15_000);
    await stopping;
    expect(h.finished).toContainEqual({ name: 'slow', aborted: true, at: EPOCH + 15_000 });
    expect(h.scheduler.inFlight).toBe(0);
    await advanceTo(EPOCH + 60_000);
    expect(h.starts.map((s) => s.name)).toEqual(['fast', 'slow']);
    expect(h.lines()).toContain('grace period over: aborting running checks');
    // The cron matchers are released from node-cron's process-wide registry.
    expect(cron.getTasks().size).toBe(0);
  });

  it('keeps scheduling when a run rejects, and logs the rejection', async () => {
    const h = harness({ fail: (name) => name === 'bad' });
    h.scheduler.update(checks(tcp('bad')));
    h.scheduler.start();
    await advanceTo(EPOCH + 30_000);
    expect(h.startsOf('bad')).toHaveLength(3);
    expect(h.lines()).toContain('run of bad blew up');
    expect(h.scheduler.running).toBe(true);
  });
});
