import { readFile } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { BaseSpec } from './base.js';
import type { CheckTypes, LoadedCheck } from './check-types.js';
import { formatPath, type Problem } from './problem.js';

/** Checks looked at between two turns of the event loop. */
const STEP = 5000;

/**
 * A check that reads a value from another (k8s-rollout's expect.digestFrom) must name a check of
 * the type its check type asks for, in the loaded files (any file, any shard): checked once all
 * files are read, since the named check may stand in another file. `written` is every check name
 * the files hold, valid or not. Only a broken reference costs anything: its file is read again to
 * place the problem at the key, as every other problem is placed.
 */
export async function referenceProblems<S extends BaseSpec>(checks: readonly LoadedCheck<S>[], types: Pick<CheckTypes<S>, 'references'>, written: { has(name: string): boolean }): Promise<Problem[]> {
  // In steps, with a turn of the event loop between them: a reload may bring 100,000 checks.
  const referring: LoadedCheck<S>[] = [];
  for (let i = 0; i < checks.length; i++) {
    if (i > 0 && i % STEP === 0) await yieldToEventLoop();
    const check = checks[i];
    if (check !== undefined && types.references(check.spec).length > 0) referring.push(check);
  }
  if (referring.length === 0) return [];
  const typeOf = new Map<string, string>();
  for (let i = 0; i < checks.length; i++) {
    if (i > 0 && i % STEP === 0) await yieldToEventLoop();
    const check = checks[i];
    if (check !== undefined) typeOf.set(check.spec.name, check.spec.type);
  }
  const problems: Problem[] = [];
  for (const check of referring) {
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
