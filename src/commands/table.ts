import type { Result } from '../results/result.js';
import { summarySentence } from '../gate/summary.js';
import { formatSeconds, type GateCheck } from '../gate/wait.js';
import { showControls } from './visible-text.js';

/**
 * The human table of `driftwatch run`, failing checks first, then blocked, then passing; then
 * the counts and the summary sentence. After `--wait` two more columns: how often each check
 * ran and how long after the start of the gate it first passed.
 */
export function formatTable(checks: readonly GateCheck[], options: { waited: boolean }): string {
  const sorted = [...checks].sort((a, b) => rank(a.result) - rank(b.result) || a.result.name.localeCompare(b.result.name));
  const rows = sorted.map(({ result: r, attempts, passedAfterMs }) => [
    label(r),
    r.name,
    r.type,
    `${Math.round(r.durationMs)}ms`,
    ...(options.waited ? [String(attempts), passedAfterMs === undefined ? '-' : formatSeconds(passedAfterMs)] : []),
    describe(r),
    // Messages carry what targets sent (DNS names, certificate fields, body snippets): no raw controls.
  ].map(showControls));
  const header = ['RESULT', 'CHECK', 'TYPE', 'TIME', ...(options.waited ? ['ATTEMPTS', 'PASSED AFTER'] : []), 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const results = checks.map((c) => c.result);
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${formatCounts(results)}\n${showControls(summarySentence(results))}\n`;
}

/** "5 passed, 1 failed, 3 blocked" (blocked only when there are some). */
export function formatCounts(results: readonly Result[]): string {
  const passed = results.filter((r) => r.ok).length;
  const blocked = results.filter((r) => r.blocked !== undefined).length;
  return `${passed} passed, ${results.length - passed - blocked} failed${blocked > 0 ? `, ${blocked} blocked` : ''}`;
}

function rank(result: Result): number {
  return result.ok ? 2 : result.blocked ? 1 : 0;
}

function label(result: Result): string {
  return result.ok ? 'PASS' : result.blocked ? 'BLOCKED' : 'FAIL';
}

function describe(result: Result): string {
  const verdict = result.observations.verdict;
  const prefix = typeof verdict === 'string' ? `[${verdict}] ` : '';
  return result.ok || result.blocked ? `${prefix}${result.message}` : `${prefix}${result.reason ?? 'error'}: ${result.message}`;
}
