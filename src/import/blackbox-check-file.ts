import { stringify } from 'yaml';
import { checkTypes } from '../checks/registry.js';
import { parseCheckFile } from '../config/load.js';
import { formatProblem, type Problem } from '../config/problem.js';
import type { Translation } from './blackbox-translation.js';

/**
 * Each translated check validated alone, as a check file would load it: one that does not (a
 * status code driftwatch does not accept, a pattern the translation did not catch) leaves its
 * module out with the problem as the reason, and never fails the other modules.
 */
export function validateEach(translations: readonly Translation[]): Translation[] {
  return translations.map((t) => {
    if (t.check === undefined) return t;
    const problems: Problem[] = [];
    parseCheckFile('imported.yaml', stringify({ checks: [t.check] }), problems, checkTypes);
    if (problems.length === 0) return t;
    const refused = problems.map((p) => `driftwatch does not accept the translated check: ${p.path.replace(/^checks\[0\]\.?/, '') || '(check)'}: ${p.message}`);
    return { module: t.module, refused: [...t.refused, ...refused], untranslated: t.untranslated, notes: t.notes };
  });
}

/** Two modules may map to one name (http_2xx and http-2xx): the later ones get -2, -3... */
export function uniqueNames(translations: readonly Translation[]): Translation[] {
  const seen = new Set<string>();
  return translations.map((t) => {
    if (t.check === undefined) return t;
    const base = String(t.check.name);
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base.slice(0, 60)}-${n}`;
    seen.add(name);
    return { ...t, check: { ...t.check, name } };
  });
}

/** The check file of the modules written, and its problems (none unless the import has a bug). */
export function buildCheckFile(source: string, shownAs: string, translations: readonly Translation[]): { text: string; problems: string[] } {
  const checks = translations.flatMap((t) => (t.check ? [t.check] : []));
  const text = `# Imported from ${source} by driftwatch import blackbox; see docs/blackbox.md.\n# Each check is a template for /probe?module=NAME&target=...; its own target is a placeholder.\n${stringify({ checks }, { lineWidth: 0 })}`;
  const problems: Problem[] = [];
  parseCheckFile(shownAs, text, problems, checkTypes);
  return { text, problems: problems.map(formatProblem) };
}

/** The per-module report: translated whole, in part (what was dropped cannot change the outcome), or left out and why. */
export function formatReport(file: string, translations: readonly Translation[]): string {
  const whole = translations.filter((t) => t.check && t.untranslated.length === 0).length;
  const part = translations.filter((t) => t.check && t.untranslated.length > 0).length;
  const none = translations.filter((t) => !t.check).length;
  const lines = [`${file}: ${translations.length} modules: ${whole} translated, ${part} in part, ${none} left out`];
  for (const t of translations) {
    const check = t.check;
    if (!check) {
      lines.push(`  ${t.module}: left out`);
      for (const line of t.refused) lines.push(`    why: ${line}`);
      continue;
    }
    lines.push(`  ${t.module} -> ${String(check.name)} (${String(check.type)}): ${t.untranslated.length > 0 ? 'in part' : 'translated'}`);
    for (const line of t.untranslated) lines.push(`    not translated: ${line}`);
    for (const line of t.notes) lines.push(`    note: ${line}`);
  }
  return `${lines.join('\n')}\n`;
}
