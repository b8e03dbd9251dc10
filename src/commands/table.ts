import type { Result } from '../result.js';
import { showControls } from './visible-text.js';

/** The human table of `driftwatch run`, failing checks first, then a summary line. */
export function formatTable(results: readonly Result[]): string {
  const sorted = [...results].sort((a, b) => Number(a.ok) - Number(b.ok) || a.name.localeCompare(b.name));
  // Messages carry what targets sent (DNS names, certificate fields, body snippets): no raw controls.
  const rows = sorted.map((r) => [r.ok ? 'PASS' : 'FAIL', r.name, r.type, `${Math.round(r.durationMs)}ms`, describe(r)].map(showControls));
  const header = ['RESULT', 'CHECK', 'TYPE', 'TIME', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const passed = results.filter((r) => r.ok).length;
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${passed} passed, ${results.length - passed} failed\n`;
}

function describe(result: Result): string {
  const verdict = result.observations.verdict;
  const prefix = typeof verdict === 'string' ? `[${verdict}] ` : '';
  return result.ok ? `${prefix}${result.message}` : `${prefix}${result.reason ?? 'error'}: ${result.message}`;
}
