import type { Result } from '../results/result.js';

/** A check that failed on its own (not blocked), and the checks it blocks. */
export interface BrokenLink {
  result: Result;
  /** The blocked checks whose roots include this one, in the order given. */
  blocking: string[];
}

/**
 * The first broken links of the dependency graph: every failing check that is not blocked, in
 * the order given (graph order from the gate), each with the blocked checks it stops. The one
 * reading of "what broke first" that the summary sentence, the Markdown report and the gate
 * endpoint's JSON share.
 */
export function firstBrokenLinks(results: readonly Result[]): BrokenLink[] {
  // One pass over the blocked checks, not one per root: a gate of many checks may have many of both.
  const blocking = new Map<string, string[]>();
  for (const r of results) {
    for (const root of new Set(r.blocked?.roots)) {
      const list = blocking.get(root);
      if (list) list.push(r.name);
      else blocking.set(root, [r.name]);
    }
  }
  return results.filter((r) => !r.ok && r.blocked === undefined).map((root) => ({ result: root, blocking: blocking.get(root.name) ?? [] }));
}

/**
 * The gate's verdict on a set of results: passed when every check passes, failed when some check
 * fails on its own, blocked when none fails on its own but some wait for a dependency without a
 * result (summarySentence's "blocked checks wait for dependencies" case).
 */
export type GateVerdict = 'passed' | 'failed' | 'blocked';

export function gateVerdict(results: readonly Result[]): GateVerdict {
  if (results.every((r) => r.ok)) return 'passed';
  return results.some((r) => !r.ok && r.blocked === undefined) ? 'failed' : 'blocked';
}
