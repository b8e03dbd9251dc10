import type { Result } from '../result.js';
import { summarySentence } from '../gate/summary.js';

/** The human table of `driftwatch run`, failing checks first, then blocked, then passing; then the counts and the summary sentence. */
export function formatTable(results: readonly Result[]): string {
  const sorted = [...results].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  const rows = sorted.map((r) => [label(r), r.name, r.type, `${Math.round(r.durationMs)}ms`, describe(r)]);
  const header = ['RESULT', 'CHECK', 'TYPE', 'TIME', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const passed = results.filter((r) => r.ok).length;
  const blocked = results.filter((r) => r.blocked !== undefined).length;
  const counts = `${passed} passed, ${results.length - passed - blocked} failed${blocked > 0 ? `, ${blocked} blocked` : ''}`;
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${counts}\n${summarySentence(results)}\n`;
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
