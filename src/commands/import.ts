import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { parseCheckFile } from '../config/load.js';
import { formatProblem, type Problem } from '../config/problem.js';
import { blackboxConfig } from '../import/blackbox-config.js';
import { translateModule, type Translation } from '../import/blackbox-module.js';
import { asUsageError, UsageError } from './options.js';

export const IMPORT_HELP = `Usage: driftwatch import blackbox FILE [--output FILE] [--allow-target GLOB]...

Translates a blackbox_exporter configuration (blackbox.yml) into driftwatch check files: one
check per module it can express, named as /probe?module= finds it (http_2xx -> http-2xx).
Writes the checks to stdout (or --output FILE) and, on stderr, what each module could not
bring along and why. Each check is a template: its own target is a placeholder, /probe?module=
&target= points it at a target, within allowTargets. See docs/blackbox.md.

  --output FILE         write the check file here instead of stdout
  --allow-target GLOB   allowTargets of every imported check (repeatable), e.g. "https://*.example.com/*"
  -h, --help            this help

Exits 0 when the file was read (even if some modules were left out), 2 when it cannot be.
`;

export async function importConfig(argv: string[]): Promise<number> {
  const { values, positionals } = parseImportArgs(argv);
  if (values.help) {
    process.stdout.write(IMPORT_HELP);
    return 0;
  }
  const [format, file, ...extra] = positionals;
  if (format !== 'blackbox') throw new UsageError(format === undefined ? 'say what to import: blackbox' : `cannot import "${format}" (only blackbox)`);
  if (file === undefined || extra.length > 0) throw new UsageError('expected one blackbox.yml file');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    process.stderr.write(`driftwatch import: cannot read ${file} (${err instanceof Error && 'code' in err ? String(err.code) : 'error'})\n`);
    return 2;
  }
  const parsed = blackboxConfig.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    process.stderr.write(`driftwatch import: ${file} is not a blackbox_exporter configuration:\n${issues}\n`);
    return 2;
  }
  const translations = Object.entries(parsed.data.modules).map(([name, module]) => translateModule(name, module, values['allow-target'] ?? []));
  const checks = uniqueNames(translations.flatMap((t) => (t.check ? [t.check] : [])));
  const output = `# Imported from ${file} by driftwatch import blackbox; see docs/blackbox.md.\n# Each check is a template for /probe?module=NAME&target=...; its own target is a placeholder.\n${stringify({ checks }, { lineWidth: 0 })}`;
  // What we write must load: a translation bug is ours, not the user's.
  const problems: Problem[] = [];
  parseCheckFile(values.output ?? 'imported.yaml', output, problems);
  process.stderr.write(formatReport(file, translations));
  if (problems.length > 0) {
    process.stderr.write(`driftwatch import: the translated checks do not validate (a bug in the import):\n${problems.map(formatProblem).join('\n')}\n`);
    return 1;
  }
  if (values.output === undefined) process.stdout.write(output);
  else await writeFile(values.output, output);
  return 0;
}

function parseYaml(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
}

/** Two modules may map to one name (http_2xx and http-2xx): the later ones get -2, -3... */
function uniqueNames(checks: Record<string, unknown>[]): Record<string, unknown>[] {
  const seen = new Set<string>();
  return checks.map((check) => {
    const base = String(check.name);
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base.slice(0, 60)}-${n}`;
    seen.add(name);
    return { ...check, name };
  });
}

/** The per-module report: translated, in part or left out, and why. */
export function formatReport(file: string, translations: readonly Translation[]): string {
  const whole = translations.filter((t) => t.check && t.untranslated.length === 0).length;
  const part = translations.filter((t) => t.check && t.untranslated.length > 0).length;
  const none = translations.filter((t) => !t.check).length;
  const lines = [`${file}: ${translations.length} modules: ${whole} translated, ${part} in part, ${none} left out`];
  for (const t of translations) {
    const check = t.check;
    const state = !check ? 'left out' : t.untranslated.length > 0 ? 'in part' : 'translated';
    lines.push(`  ${t.module}${check ? ` -> ${String(check.name)} (${String(check.type)})` : ''}: ${state}`);
    for (const line of t.untranslated) lines.push(`    not translated: ${line}`);
    for (const line of t.notes) lines.push(`    note: ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function parseImportArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { output: { type: 'string' }, 'allow-target': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw asUsageError(err);
  }
}
