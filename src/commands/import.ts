import { constants } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { blackboxConfig } from '../import/blackbox-config.js';
import { buildCheckFile, formatReport, uniqueNames, validateEach } from '../import/blackbox-check-file.js';
import { translateModule } from '../import/blackbox-module.js';
import { asUsageError, CommandError, UsageError } from './options.js';

export const IMPORT_HELP = `Usage: driftwatch import blackbox FILE [--output FILE] [--allow-target GLOB]...

Translates a blackbox_exporter configuration (blackbox.yml) into driftwatch check files: one
check per module it can express, named as /probe?module= finds it (http_2xx -> http-2xx).
Writes the checks to stdout (or --output FILE) and, on stderr, per module: translated, in part
(what was dropped cannot change the outcome), or left out and why. A module is left out, and
the others still written, when a part of it has no equivalent that decides the same (a
pattern driftwatch's RE2 refuses, compression, a client certificate...). Patterns are copied
as written: check files use RE2 syntax, as blackbox does. Each check is a template: its own
target is a placeholder, /probe?module=&target= points it at a target, within allowTargets.
See docs/blackbox.md.

  --output FILE         write the check file here instead of stdout
  --allow-target GLOB   allowTargets of every imported check (repeatable), e.g. "https://*.example.com/*"
  -h, --help            this help

Exits 0 when it wrote the checks, even if some modules were left out (the report names them);
2 when it wrote nothing: the file cannot be read or is not a blackbox configuration, or the
output cannot be written.
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
  const text = await readBlackboxFile(file);
  if (typeof text !== 'string') {
    process.stderr.write(`driftwatch import: cannot read ${file} (${text.problem})\n`);
    return 2;
  }
  const parsed = blackboxConfig.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    process.stderr.write(`driftwatch import: ${file} is not a blackbox_exporter configuration:\n${issues}\n`);
    return 2;
  }
  const translated = Object.entries(parsed.data.modules).map(([name, module]) => translateModule(name, module, values['allow-target'] ?? []));
  const translations = uniqueNames(validateEach(translated));
  const output = buildCheckFile(file, values.output ?? 'imported.yaml', translations);
  process.stderr.write(formatReport(file, translations));
  // Every check validated alone: a problem of the whole file is a bug of the import, not the user's.
  if (output.problems.length > 0) throw new Error(`the translated checks do not validate together:\n${output.problems.join('\n')}`);
  if (values.output === undefined) {
    process.stdout.write(output.text);
    return 0;
  }
  try {
    await writeFile(values.output, output.text);
  } catch (err) {
    throw new CommandError(`cannot write ${values.output} (${errorCode(err)})`);
  }
  return 0;
}

/** A blackbox.yml is a few KB; past this it is not one, and parsing it would take the heap (as a check file would). */
const MAX_BLACKBOX_BYTES = 8 * 1024 * 1024;

/** The file's text, at most MAX_BLACKBOX_BYTES; opened non-blocking, so a FIFO does not hang. */
async function readBlackboxFile(file: string): Promise<string | { problem: string }> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) return { problem: 'not a regular file' };
    // Read one byte past the limit: the file may have grown since stat.
    const buffer = Buffer.alloc(Math.min(info.size, MAX_BLACKBOX_BYTES) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) ({ bytesRead: n } = await handle.read(buffer, length, buffer.length - length));
    if (length > MAX_BLACKBOX_BYTES) return { problem: `more than ${MAX_BLACKBOX_BYTES / 1024 / 1024} MiB` };
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    return { problem: errorCode(err) };
  } finally {
    await handle?.close();
  }
}

function errorCode(err: unknown): string {
  return err instanceof Error && 'code' in err ? String(err.code) : 'error';
}

function parseYaml(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return undefined;
  }
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
