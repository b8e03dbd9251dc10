import type { LoadedCheck } from '../checks/registry.js';
import type { Result } from '../results/result.js';
import { blockedResult, blockingDependencies } from './blocked.js';

/**
 * The checks with every check after the dependencies it has among them (Kahn's algorithm, file
 * order among checks that are ready together). Dependencies outside the list are ignored. The
 * loader has rejected cycles; should one reach here anyway, its checks come last, in file order.
 */
export function graphOrder(checks: readonly LoadedCheck[]): LoadedCheck[] {
  if (!checks.some((check) => check.dependencies.length > 0)) return [...checks];
  const byName = new Map(checks.map((check) => [check.spec.name, check]));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const check of checks) {
    const inside = [...new Set(check.dependencies)].filter((name) => byName.has(name) && name !== check.spec.name);
    waiting.set(check.spec.name, inside.length);
    for (const name of inside) {
      const list = dependents.get(name);
      if (list) list.push(check.spec.name);
      else dependents.set(name, [check.spec.name]);
    }
  }
  const ordered: LoadedCheck[] = [];
  const ready = checks.filter((check) => waiting.get(check.spec.name) === 0);
  for (let at = 0; at < ready.length; at++) {
    const check = ready[at];
    if (check === undefined) break;
    ordered.push(check);
    for (const name of dependents.get(check.spec.name) ?? []) {
      const left = (waiting.get(name) ?? 0) - 1;
      waiting.set(name, left);
      const dependent = byName.get(name);
      if (left === 0 && dependent !== undefined) ready.push(dependent);
    }
  }
  if (ordered.length < checks.length) ordered.push(...checks.filter((check) => !ordered.includes(check)));
  return ordered;
}

/**
 * Runs the checks once, each as soon as its dependencies among them have a result, in parallel
 * otherwise (`execute` applies the concurrency limit). A check whose dependency failed or is
 * blocked is not executed: its result is blocked. `settled` holds results from earlier rounds
 * (`run --wait` reruns only what did not pass) that count as the dependencies' results.
 * Resolves with every check's result, in graph order.
 */
export async function runRound(
  checks: readonly LoadedCheck[],
  settled: ReadonlyMap<string, Result>,
  execute: (check: LoadedCheck) => Promise<Result>,
): Promise<Result[]> {
  const done = new Map<string, Result>();
  const pending = new Map<string, Promise<Result>>();
  const latest = (name: string) => done.get(name) ?? settled.get(name);
  for (const check of graphOrder(checks)) {
    const dependencies = check.dependencies;
    const before = dependencies.flatMap((name) => pending.get(name) ?? []);
    const running = (async () => {
      await Promise.all(before);
      const blocking = blockingDependencies(dependencies, latest);
      const result = blocking.length > 0 ? blockedResult(check.spec, blocking, latest) : await execute(check);
      done.set(check.spec.name, result);
      return result;
    })();
    pending.set(check.spec.name, running);
  }
  return Promise.all(pending.values());
}
