/**
 * Worker thread entry: validates one check file's text and posts the plain-data result back
 * (see check-file-thread.ts). Never imported by the main thread. The check types come from the
 * module the caller's CheckTypes names (the registry, which lives above config).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { CHECKS_PER_PART, validateCheckFile } from './check-file.js';
import type { CheckTypes } from './check-types.js';

const { file, text, types } = z.object({ file: z.string(), text: z.string(), types: z.string() }).parse(workerData);
const exported: unknown = await import(types);
const checkTypes = exported !== null && typeof exported === 'object' && 'checkTypes' in exported ? exported.checkTypes : undefined;
if (!isCheckTypes(checkTypes)) throw new Error(`${types} exports no checkTypes`);
// As JSON text: copying strings and JSON.parse on the main thread block it about half as long
// as a structured clone of 10,000 objects. Lossless for checks that passed: their schemas take
// only JSON values (zod refuses NaN and Infinity, the only others YAML gives). In parts (the
// problems and names, then the checks a slice at a time), so the main thread can read them
// with a turn of its event loop between parts.
const { checks, ...rest } = validateCheckFile(file, text, checkTypes);
const parts = [JSON.stringify(rest)];
for (let at = 0; at < checks.length; at += CHECKS_PER_PART) parts.push(JSON.stringify(checks.slice(at, at + CHECKS_PER_PART)));
parentPort?.postMessage(parts);

function isCheckTypes(value: unknown): value is Pick<CheckTypes, 'schema' | 'names'> {
  if (value === null || typeof value !== 'object' || !('schema' in value) || !('names' in value)) return false;
  const { schema, names } = value;
  return schema instanceof z.ZodType && Array.isArray(names) && names.every((name) => typeof name === 'string');
}
