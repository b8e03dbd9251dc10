import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { bind, checkSchema, type BoundCheck, type CheckSpec } from '../checks/registry.js';
import { validateInWorker } from './check-file-thread.js';
import { validateCheckFile, type ValidCheck } from './check-file.js';
import { findDependencyProblems } from './dependencies.js';
import { digestFromProblems } from './digest-from.js';
import { findCheckFiles, readCheckFile, showPath } from './check-files.js';
import { ConfigError, type Problem } from './problem.js';

export { listCheckFiles } from './check-files.js';

/** A validated check, where it came from, and its type's functions. */
export interface LoadedCheck {
  spec: CheckSpec;
  file: string;
  /** Where the check starts, and its index in the file's checks list. */
  line: number;
  index: number;
  bound: BoundCheck;
}

/**
 * Files up to this size are validated on the calling thread (some 60 ms of CPU at most); larger
 * ones on a worker thread, so a daemon loading a 10,000-check file keeps answering meanwhile.
 */
const INLINE_BYTES = 64 * 1024;

/** Checks built into specs between two turns of the event loop. */
const BUILD_CHUNK = 200;

/** Reads and validates check files; throws ConfigError listing every problem at once. */
export async function loadChecks(paths: readonly string[]): Promise<LoadedCheck[]> {
  const problems: Problem[] = [];
  const files = await findCheckFiles(paths, problems);
  const checks: LoadedCheck[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const shown = showPath(file);
    const text = await readCheckFile(file, problems);
    if (text === undefined) continue;
    const validated = text.length > INLINE_BYTES ? await validateInWorker(shown, text) : validateCheckFile(shown, text);
    problems.push(...validated.problems);
    // Every name counts, valid check or not: a duplicate is reported beside the check's other problems.
    for (const { name, index, line, col } of validated.names) {
      const first = seen.get(name);
      if (first !== undefined) problems.push({ file: shown, line, col, path: `checks[${index}].name`, message: `duplicate check name "${name}" (first defined at ${first})` });
      else seen.set(name, `${shown}:${line}`);
    }
    if (problems.length === 0) checks.push(...(await buildChecks(shown, validated.checks)));
  }
  problems.push(...(await findDependencyProblems(checks, files)));
  problems.push(...(await digestFromProblems(checks, new Set(seen.keys()))));
  if (problems.length > 0) throw new ConfigError(problems);
  if (files.length === 0) throw new ConfigError([{ file: paths.join(','), line: 1, col: 1, path: '', message: 'no *.yaml check files found' }]);
  return checks;
}

/** Parses one file's text on this thread; problems are appended, valid checks returned. */
export function parseCheckFile(file: string, text: string, problems: Problem[]): LoadedCheck[] {
  const validated = validateCheckFile(file, text);
  problems.push(...validated.problems);
  return validated.checks.map((valid) => buildCheck(file, valid));
}

/** Valid checks into specs, yielding between chunks so a large file does not stall the loop. */
async function buildChecks(file: string, valid: readonly ValidCheck[]): Promise<LoadedCheck[]> {
  const checks: LoadedCheck[] = [];
  for (let i = 0; i < valid.length; i += BUILD_CHUNK) {
    if (i > 0) await yieldToEventLoop();
    for (const item of valid.slice(i, i + BUILD_CHUNK)) checks.push(buildCheck(file, item));
  }
  return checks;
}

/** A check that passed validation, parsed into its spec (with its Secret instances) and bound. */
function buildCheck(file: string, valid: ValidCheck): LoadedCheck {
  const spec = checkSchema.parse(valid.input);
  return { spec, file, line: valid.line, index: valid.index, bound: bind(spec) };
}
