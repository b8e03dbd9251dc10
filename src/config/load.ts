import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BaseSpec } from './base.js';
import { validateInWorker } from './check-file-thread.js';
import { validateCheckFile, type ValidCheck } from './check-file.js';
import type { CheckTypes, LoadedCheck } from './check-types.js';
import { dependenciesOf, findDependencyProblems } from './dependencies.js';
import { referenceProblems } from './references.js';
import { findCheckFiles, readCheckFile, showPath } from './check-files.js';
import { ConfigError, type Problem } from './problem.js';
import { specKey } from './spec-key.js';

export { listCheckFiles } from './check-files.js';

/**
 * Files up to this size are validated on the calling thread (some 60 ms of CPU at most); larger
 * ones on a worker thread, so a daemon loading a 10,000-check file keeps answering meanwhile.
 */
const INLINE_BYTES = 64 * 1024;

/** Checks built into specs between two turns of the event loop (some 10-20 ms of CPU). */
const BUILD_CHUNK = 100;
/** Names looked at between two turns of the event loop, when checking for duplicates. */
const NAME_CHUNK = 5000;

/**
 * Reads and validates check files against the check types the caller hands in (the registry's
 * checkTypes); throws ConfigError listing every problem at once.
 */
export async function loadChecks<S extends BaseSpec, B>(paths: readonly string[], types: CheckTypes<S, B>): Promise<LoadedCheck<S, B>[]> {
  const problems: Problem[] = [];
  const files = await findCheckFiles(paths, problems);
  const checks: LoadedCheck<S, B>[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const shown = showPath(file);
    const text = await readCheckFile(file, problems);
    if (text === undefined) continue;
    const validated = text.length > INLINE_BYTES ? await validateInWorker(shown, text, types) : validateCheckFile(shown, text, types);
    problems.push(...validated.problems);
    // Every name counts, valid check or not: a duplicate is reported beside the check's other problems.
    for (const [i, { name, index, line, col }] of validated.names.entries()) {
      if (i > 0 && i % NAME_CHUNK === 0) await yieldToEventLoop();
      const first = seen.get(name);
      if (first !== undefined) problems.push({ file: shown, line, col, path: `checks[${index}].name`, message: `duplicate check name "${name}" (first defined at ${first})` });
      else seen.set(name, `${shown}:${line}`);
    }
    if (problems.length === 0) checks.push(...(await buildChecks(shown, validated.checks, types)));
  }
  problems.push(...(await findDependencyProblems(checks, files)));
  problems.push(...(await referenceProblems(checks, types, seen)));
  if (problems.length > 0) throw new ConfigError(problems);
  if (files.length === 0) throw new ConfigError([{ file: paths.join(','), line: 1, col: 1, path: '', message: 'no *.yaml check files found' }]);
  return checks;
}

/** Parses one file's text on this thread; problems are appended, valid checks returned. */
export function parseCheckFile<S extends BaseSpec, B>(file: string, text: string, problems: Problem[], types: CheckTypes<S, B>): LoadedCheck<S, B>[] {
  const validated = validateCheckFile(file, text, types);
  problems.push(...validated.problems);
  return validated.checks.map((valid) => buildCheck(file, valid, types));
}

/** Valid checks into specs, yielding between chunks so a large file does not stall the loop. */
async function buildChecks<S extends BaseSpec, B>(file: string, valid: readonly ValidCheck[], types: CheckTypes<S, B>): Promise<LoadedCheck<S, B>[]> {
  const checks: LoadedCheck<S, B>[] = [];
  for (let i = 0; i < valid.length; i += BUILD_CHUNK) {
    if (i > 0) await yieldToEventLoop();
    for (const item of valid.slice(i, i + BUILD_CHUNK)) checks.push(buildCheck(file, item, types));
  }
  return checks;
}

/** A check that passed validation, parsed into its spec (with its Secret instances) and bound. */
function buildCheck<S extends BaseSpec, B>(file: string, valid: ValidCheck, types: CheckTypes<S, B>): LoadedCheck<S, B> {
  const spec = types.schema.parse(valid.input);
  const dependencies = dependenciesOf(spec, types.references(spec));
  return { spec, file, line: valid.line, index: valid.index, bound: types.bind(spec), dependencies, key: specKey(spec) };
}
