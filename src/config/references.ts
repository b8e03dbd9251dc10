import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { BaseSpec } from './base.js';
import type { CheckTypes, LoadedCheck } from './check-types.js';
import { formatPath, type Problem } from './problem.js';

/**
 * A check that reads a value from another (k8s-rollout's expect.digestFrom) must name a check of
 * the type its check type asks for, in the loaded files (any file, any shard): checked once all
 * files are read, since the named check may stand in another file. `written` is every check name
 * the files hold, valid or not. Only a broken reference costs anything: its file is read again to
 * place the problem at the key, as every other problem is placed.
 */
export async function referenceProblems<S extends BaseSpec>(checks: readonly LoadedCheck<S>[], types: Pick<CheckTypes<S>, 'references'>, written: ReadonlySet<string>): Promise<Problem[]> {
  const typeOf = new Map(checks.map((c) => [c.spec.name, c.spec.type]));
  const problems: Problem[] = [];
  for (const check of checks) {
    for (const reference of types.references(check.spec)) {
      const { name, type: wanted } = reference;
      const type = typeOf.get(name);
      if (type === wanted) continue;
      // Named in the files but not loaded (it has problems of its own, reported already).
      if (type === undefined && written.has(name)) continue;
      const of = checks.filter((c) => c.spec.type === wanted).map((c) => c.spec.name);
      const known = `${wanted} checks: ${of.length > 0 ? of.join(', ') : 'none'}`;
      const message = type === undefined ? `no check named "${name}" (${known})` : `check "${name}" is a ${type} check, expected ${article(wanted)} ${wanted} check (${known})`;
      const path = ['checks', check.index, ...reference.path];
      problems.push({ file: check.file, ...(await positionOf(check, path)), path: formatPath(path), message });
    }
  }
  return problems;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
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
