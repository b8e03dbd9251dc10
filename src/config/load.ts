import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { bind, checkSchema, CHECK_TYPES, type BoundCheck, type CheckSpec } from '../checks/registry.js';
import { defaultsSchema } from './base.js';
import { findDependencyProblems } from './dependencies.js';
import { digestFromProblems } from './digest-from.js';
import { formatDuration } from './duration.js';
import { acceptedKeys, ConfigError, describeValue, formatPath, formatProblem, schemaAt, type Problem } from './problem.js';

/** A validated check, where it came from, and its type's functions. */
export interface LoadedCheck {
  spec: CheckSpec;
  file: string;
  /** Where the check starts, and its index in the file's checks list. */
  line: number;
  index: number;
  bound: BoundCheck;
}

/** A check as parsed from one file, with where its name stands (for duplicate-name errors). */
type ParsedCheck = LoadedCheck & { namePosition: { line: number; col: number } };

const fileSchema = z.strictObject({
  defaults: z.unknown().optional(),
  checks: z.array(z.unknown()),
});

/** The *.yaml / *.yml files named by paths (folders are read recursively, in name order). */
export async function listCheckFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ConfigError([{ file: path, line: 1, col: 1, path: '', message: 'no such file or folder' }]);
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true });
      // Hidden entries are skipped: a mounted ConfigMap holds every file three times, as
      // NAME -> ..data/NAME -> ..2026_11_27_.../NAME.
      const visible = entries.filter((e) => /\.ya?ml$/.test(e) && !e.split(sep).some((part) => part.startsWith('.')));
      files.push(...visible.sort().map((e) => join(path, e)));
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Reads and validates check files; throws ConfigError listing every problem at once. */
export async function loadChecks(paths: readonly string[]): Promise<LoadedCheck[]> {
  const files = await listCheckFiles(paths);
  const problems: Problem[] = [];
  const checks: LoadedCheck[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    const text = await readFile(file, 'utf8');
    for (const loaded of parseCheckFile(shown, text, problems)) {
      const first = seen.get(loaded.spec.name);
      if (first !== undefined) {
        const { line, col } = loaded.namePosition;
        problems.push({ file: shown, line, col, path: `checks[${loaded.index}].name`, message: `duplicate check name "${loaded.spec.name}" (first defined at ${first})` });
        continue;
      }
      seen.set(loaded.spec.name, `${shown}:${loaded.line}`);
      checks.push(loaded);
    }
  }
  problems.push(...(await findDependencyProblems(checks, files)));
  problems.push(...(await digestFromProblems(checks)));
  if (problems.length > 0) throw new ConfigError(problems);
  if (files.length === 0) throw new ConfigError([{ file: paths.join(','), line: 1, col: 1, path: '', message: 'no *.yaml check files found' }]);
  return checks;
}

/** Parses one file's text; problems are appended, valid checks returned. */
export function parseCheckFile(file: string, text: string, problems: Problem[]): ParsedCheck[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      problems.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${(err.message.split('\n')[0] ?? err.code).replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    return [];
  }
  const where = (path: readonly PropertyKey[], atKey = false) => locate(doc, lines, path, atKey);
  const data: unknown = doc.toJS();
  const top = fileSchema.safeParse(data ?? {});
  if (!top.success) {
    problems.push(...toProblems(file, top.error.issues, fileSchema, data, (p) => [...p], where));
    return [];
  }
  const defaults = defaultsSchema.safeParse(top.data.defaults ?? {});
  if (!defaults.success) {
    problems.push(...toProblems(file, defaults.error.issues, defaultsSchema, top.data.defaults, (p) => ['defaults', ...p], where));
    return [];
  }
  const loaded: ParsedCheck[] = [];
  const found: Problem[] = [];
  top.data.checks.forEach((item, index) => {
    const merged = applyDefaults(item, defaults.data);
    const result = checkSchema.safeParse(merged);
    const prefix = ['checks', index];
    // A bad value that came from the defaults block is reported there, once per check it reaches.
    const own = item !== null && typeof item === 'object' ? Object.keys(item) : [];
    const placeOf = (path: readonly PropertyKey[]): PropertyKey[] => {
      const key = path[0];
      return typeof key === 'string' && !own.includes(key) && key in defaults.data ? ['defaults', ...path] : [...prefix, ...path];
    };
    if (!result.success) {
      found.push(...toProblems(file, result.error.issues, checkSchema, merged, placeOf, where));
      return;
    }
    const timing = checkTiming(result.data);
    if (timing) {
      const place = placeOf([timing.key]);
      found.push({ file, ...where(place), path: formatPath(place), message: timing.message });
      return;
    }
    loaded.push({ spec: result.data, file, line: where(prefix).line, index, bound: bind(result.data), namePosition: where([...prefix, 'name']) });
  });
  // A bad default reaches every check of the file: say it once.
  const seen = new Set<string>();
  for (const problem of found) {
    const key = formatProblem(problem);
    if (!seen.has(key)) problems.push(problem);
    seen.add(key);
  }
  return loaded;
}

/** Merges a file's defaults into a check: each default applies where the check's type has that key. */
function applyDefaults(item: unknown, defaults: z.infer<typeof defaultsSchema>): unknown {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
  const check = item as Record<string, unknown>;
  const keys = acceptedKeys(schemaAt(checkSchema, [], check));
  const merged: Record<string, unknown> = {};
  const ownTiming = 'interval' in check || 'schedule' in check;
  for (const [key, value] of Object.entries(defaults)) {
    if (!keys.includes(key)) continue;
    if ((key === 'interval' || key === 'schedule') && ownTiming) continue;
    merged[key] = value;
  }
  Object.assign(merged, check);
  if (defaults.labels && check.labels !== null && typeof check.labels === 'object') {
    merged.labels = { ...defaults.labels, ...(check.labels as Record<string, unknown>) };
  }
  return merged;
}

/** interval xor schedule, and a timeout that fits in the interval. */
function checkTiming(spec: CheckSpec): { key: string; message: string } | undefined {
  if (spec.interval !== undefined && spec.schedule !== undefined) {
    return { key: 'schedule', message: 'give either interval or schedule, not both' };
  }
  if (spec.interval !== undefined && spec.timeout > spec.interval) {
    return { key: 'timeout', message: `timeout ${formatDuration(spec.timeout)} exceeds interval ${formatDuration(spec.interval)} (runs would overlap and be skipped)` };
  }
  return undefined;
}

type Locate = (path: readonly PropertyKey[], atKey?: boolean) => { line: number; col: number };

function toProblems(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  schema: z.core.$ZodType,
  data: unknown,
  placeOf: (path: readonly PropertyKey[]) => PropertyKey[],
  where: Locate,
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = placeOf(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const accepted = acceptedKeys(schemaAt(schema, issue.path, data));
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        problems.push({ file, ...where(keyPath, true), path: formatPath(keyPath), message: `unknown key "${key}"${accepted.length ? ` (accepted: ${accepted.join(', ')})` : ''}` });
      }
      continue;
    }
    const received = valueAt(data, issue.path);
    problems.push({ file, ...where(path, received === undefined || issue.code === 'invalid_key'), path: formatPath(path), message: describeIssue(issue, received) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, received: unknown): string {
  switch (issue.code) {
    case 'invalid_union': {
      if ('note' in issue && issue.note === 'No matching discriminator') {
        const types = CHECK_TYPES.join(', ');
        return received === undefined ? `missing check type (accepted: ${types})` : `unknown check type ${describeValue(received)} (accepted: ${types})`;
      }
      // Never echo the value: a union is where secret references live, and an inline secret must not be printed.
      return received === undefined ? `required (${issue.message})` : issue.message;
    }
    case 'invalid_type':
      return received === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describeValue(received)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(received)}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'custom':
      return issue.message;
    default:
      return received === undefined ? issue.message : `${issue.message} (got ${describeValue(received)})`;
  }
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Line and column of the node at path, or of its nearest existing ancestor. */
function locate(doc: Document, lines: LineCounter, path: readonly PropertyKey[], atKey: boolean): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, key] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (!pair) break;
      const keyStart = rangeStart(pair.key);
      const valueStart = rangeStart(pair.value);
      offset = (last && atKey ? keyStart : (valueStart ?? keyStart)) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item: unknown = node.items[key];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
    const start: unknown = node.range[0];
    return typeof start === 'number' ? start : undefined;
  }
  return undefined;
}
