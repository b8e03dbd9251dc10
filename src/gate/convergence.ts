import type { Result } from '../results/result.js';

/*
 * `run --wait` and DNS caches: a dns check with `authoritative` reports, per caching resolver that
 * still answers the old set, how long it may keep doing so (`cachedFor`, the TTL left on its
 * answer). The gate waits that long and no longer: a resolver still disagreeing after its TTL ran
 * out ignores TTLs, or the record changed back, and more waiting will not help.
 */

/** TTLs are whole seconds, counted down by the cache: allow for the rounding and one exchange. */
const GRACE_MS = 1500;
/** How long after a cache entry runs out the gate asks again. */
const LOOK_AFTER_MS = 500;

/** A resolver expected to converge: `by` in ms from the start of the gate. */
export interface ExpectedConvergence {
  check: string;
  resolver: string;
  byMs: number;
}

export class ConvergenceWatch {
  /** check -> resolver -> when its cached answer runs out (ms from the start of the gate). */
  private readonly due = new Map<string, Map<string, number>>();

  /**
   * Notes the resolvers a result says are still converging. Returns the result to keep, with the
   * verdict in its message, when one of them still disagrees after its TTL ran out: the gate
   * stops rerunning that check.
   */
  observe(result: Result, nowMs: number): Result | undefined {
    if (result.ok) {
      this.due.delete(result.name);
      return undefined;
    }
    const stale = staleResolvers(result);
    const known = this.due.get(result.name) ?? new Map<string, number>();
    const still = new Map<string, number>();
    const overdue: string[] = [];
    for (const { resolver, cachedFor } of stale) {
      const by = known.get(resolver) ?? nowMs + cachedFor * 1000;
      still.set(resolver, by);
      if (nowMs > by + GRACE_MS) overdue.push(`${resolver} still disagrees ${seconds(nowMs - by)} after its TTL ran out (it ignores TTLs, or the record changed back)`);
    }
    this.due.set(result.name, still);
    if (overdue.length === 0) return undefined;
    return { ...result, message: `${result.message}; ${overdue.join('; ')}` };
  }

  /** Every resolver still expected to converge, soonest first. */
  expected(): ExpectedConvergence[] {
    const all = [...this.due].flatMap(([check, resolvers]) => [...resolvers].map(([resolver, byMs]) => ({ check, resolver, byMs })));
    return all.sort((a, b) => a.byMs - b.byMs);
  }

  /** When to look again: just after the soonest cache entry still to run out runs out. */
  nextLookMs(nowMs: number): number | undefined {
    const next = this.expected().find((e) => e.byMs + LOOK_AFTER_MS > nowMs);
    return next === undefined ? undefined : next.byMs + LOOK_AFTER_MS;
  }

  forget(check: string): void {
    this.due.delete(check);
  }
}

/** The resolvers of a dns result that answer other than the zone's servers, with their time left. */
function staleResolvers(result: Result): { resolver: string; cachedFor: number }[] {
  const resolvers = result.observations.resolvers;
  if (!Array.isArray(resolvers)) return [];
  return resolvers.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null || !('resolver' in entry) || !('cachedFor' in entry)) return [];
    const { resolver, cachedFor } = entry;
    return typeof resolver === 'string' && typeof cachedFor === 'number' && Number.isFinite(cachedFor) ? [{ resolver, cachedFor }] : [];
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
