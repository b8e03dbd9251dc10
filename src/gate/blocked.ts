import type { Result } from '../results/result.js';
import type { Run } from '../results/run.js';

/** The latest result of a check by name, where one is known (this run, this daemon's state). */
export type LatestResult = (name: string) => Result | undefined;

const NONE: readonly Result[] = [];

/**
 * The dependencies whose latest result stops a check from running: failing, or blocked
 * themselves. A dependency without a result does not block: it was not selected (`run --only`),
 * runs on another shard, or has not run yet since start-up. Such a check runs and speaks for
 * itself, which is what it did before it had dependencies.
 */
export function blockingDependencies(dependsOn: readonly string[] | undefined, latest: LatestResult): readonly Result[] {
  // One shared empty answer for the checks without dependencies: every scheduled run asks.
  if (dependsOn === undefined || dependsOn.length === 0) return NONE;
  const blocking: Result[] = [];
  for (const name of dependsOn) {
    const result = latest(name);
    if (result !== undefined && !result.ok) blocking.push(result);
  }
  return blocking;
}

/**
 * The result of a check that was not run because of `blocking` (from blockingDependencies):
 * "blocked: hub-db failed (auth)", or through a blocked dependency "blocked: hub-dns failed
 * (dns), through hub-ingress". No reason: it is not a failure of its own.
 */
export function blockedResult(check: { name: string; type: string }, blocking: readonly Result[], latest: LatestResult, at = new Date()): Result {
  const by = blocking.map((r) => r.name);
  const roots = [...new Set(blocking.flatMap((r) => r.blocked?.roots ?? [r.name]))];
  const through = blocking.filter((r) => r.blocked !== undefined).map((r) => r.name);
  const causes = roots.map((name) => {
    const reason = latest(name)?.reason;
    return `${name} failed${reason === undefined ? '' : ` (${reason})`}`;
  });
  return {
    name: check.name,
    type: check.type,
    ok: false,
    message: `blocked: ${listNames(causes)}${through.length > 0 ? `, through ${listNames(through)}` : ''}`,
    blocked: { by, roots },
    startedAt: at.toISOString(),
    durationMs: 0,
    observations: {},
  };
}

/** "a", "a and b", "a, b and c". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

/**
 * For `serve`: a scheduled run of a check whose dependency's latest result fails (or is
 * blocked) is not executed, so a dead database is not hammered by its dependents; it is
 * recorded as this blocked run instead (no samples: nothing was observed). Undefined when the
 * check may run.
 */
export function blockedRun(check: { spec: { name: string; type: string }; dependencies: readonly string[] }, latest: LatestResult): Run | undefined {
  const blocking = blockingDependencies(check.dependencies, latest);
  if (blocking.length === 0) return undefined;
  return { result: blockedResult(check.spec, blocking, latest), samples: [], probeSamples: () => [] };
}
