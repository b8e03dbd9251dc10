import type { CheckEntry, ServedDaemon } from './served-daemon.js';

/** The checks in name order, for lists that page: the order a cursor continues in. */
export interface CheckIndex {
  /** Every check, sorted by name (UTF-16 code units, as `<` compares); do not modify. */
  byName(): readonly CheckEntry[];
}

/**
 * Sorts once per set of checks, not per request: at 100,000 checks a sort holds the event loop
 * for ~80 ms of CPU, which a status page reloading every 15 s would pay each time. The state store keeps
 * an entry object for the life of its check and makes new ones on reload, so the set is the same
 * while every entry is the same object (one pass of identity compares, ~3 ms at 100,000).
 */
export function createCheckIndex(state: ServedDaemon['state']): CheckIndex {
  let source: readonly CheckEntry[] = [];
  let sorted: readonly CheckEntry[] = [];
  return {
    byName() {
      const all = state.all();
      if (!sameEntries(all, source)) {
        source = all;
        sorted = sortByName(all, state);
      }
      return sorted;
    },
  };
}

function sameEntries(a: readonly CheckEntry[], b: readonly CheckEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Sorting the names with the built-in comparison, then finding each entry in the store's own map,
 * costs ~45 % of the CPU of a comparator over the entries (at 100,000 checks ~80 ms against
 * ~180 ms, on a busy machine); a map of our own would add ~40 ms more.
 */
function sortByName(all: readonly CheckEntry[], state: ServedDaemon['state']): CheckEntry[] {
  const sorted: CheckEntry[] = [];
  for (const name of all.map((entry) => entry.check.spec.name).sort()) {
    const entry = state.get(name);
    if (entry) sorted.push(entry);
  }
  return sorted;
}

/**
 * The first index whose name passes `test`, for a test that fails up to some index and passes
 * from there on (binary search over byName(): at 100,000 checks a walk that reads every name
 * costs ~10 ms, the entries being scattered over the heap).
 */
export function firstWhere(sorted: readonly CheckEntry[], test: (name: string) => boolean): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (test(sorted[mid]?.check.spec.name ?? '')) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** A cursor is the last name of the page before, so it stays valid whatever is added or removed. */
export function encodeCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** The name in a cursor encodeCursor made; undefined for anything else. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  return name !== '' && encodeCursor(name) === cursor ? name : undefined;
}
