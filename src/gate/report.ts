import { summarySentence } from './summary.js';
import type { GateOutcome } from './wait.js';

/**
 * `run --json`: `{ ok, summary, results }`, each result the same shape as /probe's; after
 * `--wait` each also has `attempts` and, once it passed, `passedAfterMs`; `interrupted` names the
 * signal that stopped the gate before it decided.
 */
export function formatJson(outcome: GateOutcome, options: { waited: boolean }): string {
  const results = outcome.checks.map((c) => (options.waited ? { ...c.result, attempts: c.attempts, ...(c.passedAfterMs !== undefined && { passedAfterMs: c.passedAfterMs }) } : c.result));
  const ok = outcome.checks.every((c) => c.result.ok);
  return `${JSON.stringify({ ok, summary: summarySentence(outcome.checks.map((c) => c.result)), ...(options.waited && { rounds: outcome.rounds, elapsedMs: outcome.elapsedMs }), ...(outcome.interrupted !== undefined && { interrupted: outcome.interrupted }), results }, null, 2)}\n`;
}
