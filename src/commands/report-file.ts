import { appendFile, open, writeFile } from 'node:fs/promises';
import { CommandError } from './options.js';
import { describeSystemError } from './system-error.js';

/**
 * Report files of `run` (--junit FILE, --summary FILE): opened once before the checks run, so a typo in a CI
 * path is exit 2 at once rather than after every check ran, and written at the end; either
 * failure is one line and exit 2, never a stack trace and exit 1 (which reads as "not live").
 */
export async function ensureWritable(flag: string, path: string): Promise<void> {
  // 'a': created when missing, never emptied: the report written at the end replaces it.
  const file = await open(path, 'a').catch((err: unknown) => {
    throw new CommandError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
  });
  await file.close();
}

/** `append`: a job summary file collects what every step of the job writes (--summary). */
export async function writeReportFile(flag: string, path: string, text: string, options: { append?: boolean } = {}): Promise<void> {
  await (options.append ? appendFile(path, text) : writeFile(path, text)).catch((err: unknown) => {
    throw new CommandError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
  });
}
