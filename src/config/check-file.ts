import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { exceedsBounds } from '../text/yaml-bounds.js';
import { z } from 'zod';
import { baseFields, defaultsSchema, type BaseSpec, type Defaults } from './base.js';
import type { CheckTypes } from './check-types.js';
import { formatDuration } from './duration.js';
import { describeRawIssue, toProblems, type Locate } from './issue-message.js';
import { acceptedKeys, formatPath, formatProblem, schemaAt, type Problem } from './problem.js';

const problemSchema = z.object({ file: z.string(), line: z.number(), col: z.number(), path: z.string(), message: z.string() });

/**
 * One file's validation, as plain data (it crosses from a worker thread): its problems, every
 * check name it uses (for duplicate names, valid check or not), and the checks that passed, as
 * written with the file's defaults merged in (the loader parses them into specs).
 */
export const validatedFileSchema = z.object({
  problems: z.array(problemSchema),
  names: z.array(z.object({ name: z.string(), index: z.number(), line: z.number(), col: z.number() })),
  checks: z.array(z.object({ input: z.unknown(), index: z.number(), line: z.number() })),
});
export type ValidatedFile = z.infer<typeof validatedFileSchema>;

/** Valid checks per part when a worker thread hands a file's result over (check-file-worker.ts): some 5 ms of parsing each. */
export const CHECKS_PER_PART = 1000;
export type ValidCheck = ValidatedFile['checks'][number];

const fileSchema = z.strictObject({
  defaults: z.unknown().optional(),
  checks: z.array(z.unknown()),
});

/** The fields every check has, checked on their own when the type is missing or unknown. */
const baseSchema = z.looseObject(baseFields);

/** Every parse words zod's own messages for the user (a schema's own message still wins). */
const WORDS = { error: describeRawIssue };

/** Yaml's default: an anchor's uses times the aliases inside it; stops "billion laughs" documents. */
const MAX_ALIAS_COUNT = 100;

/**
 * Nesting a check file may have, as text/yaml-bounds.ts counts it (about twice the real depth: a check
 * file nests some 8 levels). Deeper text is refused before the parser recurses into it: 10,000
 * unclosed `[` parsed twice aborted the whole process (V8 "RegExpCompiler Allocation failed"),
 * which no handler catches, in `validate` and in a `serve` reload alike.
 */
const MAX_DEPTH = 64;

/** Validates one check file's text against the check types, reporting every problem it can find at once. */
export function validateCheckFile(file: string, text: string, types: Pick<CheckTypes, 'schema' | 'names'>): ValidatedFile {
  const checkSchema = types.schema;
  const result: ValidatedFile = { problems: [], names: [], checks: [] };
  const excess = exceedsBounds(text, { depth: MAX_DEPTH, tokens: Number.POSITIVE_INFINITY });
  if (excess) {
    const message = excess.what === 'control' ? 'YAML: a control character, which YAML does not allow' : `YAML: nested deeper than a check file needs (more than ${MAX_DEPTH / 2} levels)`;
    result.problems.push({ file, line: excess.line, col: excess.col, path: '', message });
    return result;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      result.problems.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${(err.message.split('\n')[0] ?? err.code).replace(/ at line \d+, column \d+:?$/, '')}` });
    }
    return result;
  }
  const where: Locate = (path, atKey = false) => locate(doc, lines, path, atKey);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = err instanceof ReferenceError && /alias/i.test(err.message)
      ? `aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions; the limit guards against "billion laughs" documents)`
      : err instanceof Error ? err.message : String(err);
    result.problems.push({ file, ...firstAlias(doc, lines), path: '', message: `YAML: ${message}` });
    return result;
  }
  const top = fileSchema.safeParse(data ?? {}, WORDS);
  if (!top.success) result.problems.push(...toProblems(file, top.error.issues, fileSchema, data, (p) => [...p], where));
  // An unknown top-level key does not hide the problems of the checks.
  const body = top.success ? top.data : checksOf(data);
  if (!body) return result;
  const defaults = parseDefaults(file, body.defaults, where, result.problems);
  const found: Problem[] = [];
  body.checks.forEach((item, index) => {
    const prefix = ['checks', index];
    if (isRecord(item) && typeof item.name === 'string') result.names.push({ name: item.name, index, ...where([...prefix, 'name']) });
    const merged = applyDefaults(item, defaults, checkSchema);
    // A bad value that came from the defaults block is reported there, once per check it reaches.
    const own = isRecord(item) ? Object.keys(item) : [];
    const placeOf = (path: readonly PropertyKey[]): PropertyKey[] => {
      const key = path[0];
      return typeof key === 'string' && !own.includes(key) && key in defaults ? ['defaults', ...path] : [...prefix, ...path];
    };
    const parsed = checkSchema.safeParse(merged, WORDS);
    let timing: CheckTiming | undefined;
    if (parsed.success) {
      timing = parsed.data;
    } else {
      found.push(...toProblems(file, parsed.error.issues, checkSchema, merged, placeOf, where, types.names));
      // Without a known type there is no type schema: still check the fields every check has.
      if (!parsed.error.issues.some(isUnknownType)) return;
      const base = baseSchema.safeParse(merged, WORDS);
      if (!base.success) {
        found.push(...toProblems(file, base.error.issues, baseSchema, merged, placeOf, where));
        return;
      }
      timing = base.data;
    }
    const wrong = checkTiming(timing);
    if (wrong) {
      const place = placeOf([wrong.key]);
      found.push({ file, ...where(place), path: formatPath(place), message: wrong.message });
    } else if (parsed.success) {
      result.checks.push({ input: merged, index, line: where(prefix).line });
    }
  });
  // A bad default reaches every check of the file: say it once.
  const seen = new Set<string>();
  for (const problem of found) {
    const key = formatProblem(problem);
    if (!seen.has(key)) result.problems.push(problem);
    seen.add(key);
  }
  return result;
}

function checksOf(data: unknown): { defaults: unknown; checks: unknown[] } | undefined {
  if (!isRecord(data)) return undefined;
  const checks: unknown = data.checks;
  return Array.isArray(checks) ? { defaults: data.defaults, checks } : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isUnknownType(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator';
}

/** The defaults block; one that fails is reported, and the file is checked without its bad keys. */
function parseDefaults(file: string, raw: unknown, where: Locate, problems: Problem[]): Defaults {
  const parsed = defaultsSchema.safeParse(raw ?? {}, WORDS);
  if (parsed.success) return parsed.data;
  problems.push(...toProblems(file, parsed.error.issues, defaultsSchema, raw, (p) => ['defaults', ...p], where));
  if (!isRecord(raw)) return {};
  const bad = new Set(parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : [String(i.path[0])])));
  return defaultsSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([key]) => !bad.has(key)))).data ?? {};
}

/** Merges a file's defaults into a check: each default applies where the check's type has that key. */
function applyDefaults(item: unknown, defaults: Defaults, checkSchema: CheckTypes['schema']): unknown {
  if (!isRecord(item)) return item;
  const keys = acceptedKeys(schemaAt(checkSchema, [], item));
  const merged: Record<string, unknown> = {};
  const ownTiming = 'interval' in item || 'schedule' in item;
  for (const [key, value] of Object.entries(defaults)) {
    if (!keys.includes(key)) continue;
    if ((key === 'interval' || key === 'schedule') && ownTiming) continue;
    merged[key] = value;
  }
  Object.assign(merged, item);
  if (defaults.labels && isRecord(item.labels)) merged.labels = { ...defaults.labels, ...item.labels };
  return merged;
}

type CheckTiming = Pick<BaseSpec, 'interval' | 'schedule' | 'timeout'>;

/** interval xor schedule, and a timeout that fits in the interval. */
function checkTiming(spec: CheckTiming): { key: string; message: string } | undefined {
  if (spec.interval !== undefined && spec.schedule !== undefined) {
    return { key: 'schedule', message: 'give either interval or schedule, not both' };
  }
  if (spec.interval !== undefined && spec.timeout > spec.interval) {
    return { key: 'timeout', message: `timeout ${formatDuration(spec.timeout)} exceeds interval ${formatDuration(spec.interval)} (runs would overlap and be skipped)` };
  }
  return undefined;
}

/** Where the first alias stands: an alias bomb is reported there. */
function firstAlias(doc: Document, lines: LineCounter): { line: number; col: number } {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return lines.linePos(offset);
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
