import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { LoadedCheck } from './load.js';
import type { Problem } from './problem.js';

/**
 * k8s-rollout's expect.digestFrom must name an oci-image check of the loaded files (any file,
 * any shard): checked once all files are read, since the named check may stand in another file.
 * `written` is every check name the files hold, valid or not. Only a broken reference costs anything: its file is read again to place the problem at the
 * key, as every other problem is placed.
 */
export async function digestFromProblems(checks: readonly LoadedCheck[], written: ReadonlySet<string>): Promise<Problem[]> {
  const types = new Map(checks.map((c) => [c.spec.name, c.spec.type]));
  const images = checks.filter((c) => c.spec.type === 'oci-image').map((c) => c.spec.name);
  const problems: Problem[] = [];
  for (const check of checks) {
    if (check.spec.type !== 'k8s-rollout' || check.spec.expect?.digestFrom === undefined) continue;
    const name = check.spec.expect.digestFrom;
    const type = types.get(name);
    if (type === 'oci-image') continue;
    // Named in the files but not loaded (it has problems of its own, reported already).
    if (type === undefined && written.has(name)) continue;
    const known = images.length > 0 ? images.join(', ') : 'none';
    const message = type === undefined ? `no check named "${name}" (oci-image checks: ${known})` : `check "${name}" is a ${type} check, expected an oci-image check (oci-image checks: ${known})`;
    const path = ['checks', check.index, 'expect', 'digestFrom'];
    problems.push({ file: check.file, ...(await positionOf(check, path)), path: `checks[${check.index}].expect.digestFrom`, message });
  }
  return problems;
}

async function positionOf(check: LoadedCheck, path: (string | number)[]): Promise<{ line: number; col: number }> {
  try {
    const lines = new LineCounter();
    const doc = parseDocument(await readFile(check.file, 'utf8'), { lineCounter: lines });
    const node: unknown = doc.getIn(path, true);
    if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      const start: unknown = node.range[0];
      if (typeof start === 'number') return lines.linePos(start);
    }
  } catch {
    // The file changed or went away since it was loaded: the check's own line will do.
  }
  return { line: check.line, col: 1 };
}
