import { z } from 'zod';
import { createOffThread, type OffThread } from '../text/off-thread.js';
import type { Shape } from './json-shape.js';

/*
 * Large API answers are parsed on a worker thread. JSON.parse of a 4.6 MB Deployment with 100k
 * containers, and a schema over all of them, held the event loop for most of a second, and
 * /metrics with it. The thread parses, keeps only the parts the check's schema reads
 * (json-shape.ts), and refuses an answer with more items in one array (or keys in one object)
 * than any real object has: the event loop then receives a bounded value, or a reason.
 */

/** Answers up to this size are parsed on the event loop: a millisecond or so. */
export const ON_LOOP_BYTES = 64 * 1024;
/** Items of one array, keys of one object: far beyond a real pod template or list page. */
export const MAX_ITEMS = 10_000;
/** Values in one answer, all levels together. */
export const MAX_VALUES = 1_000_000;
/** Levels of nesting (a Deployment has about 12). */
export const MAX_DEPTH = 100;

export type Parsed = { value: unknown } | { refused: string };

const SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, input }) => {
  try {
    parentPort.postMessage({ id, output: read(input) });
  } catch (err) {
    parentPort.postMessage({ id, output: { refused: 'the answer could not be read (' + String((err && err.message) || err) + ')' } });
  }
});
function read({ bytes, shape, maxItems, maxValues, maxDepth }) {
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes)));
  } catch {
    return { refused: 'the API server answered something that is not JSON' };
  }
  let values = 0;
  let refused;
  // Key names come from the server: a path in a message is cut like any server text.
  const at = (path) => (path === '' ? '(root)' : path.length > 200 ? path.slice(0, 200) + '...' : path);
  const keep = (value, shape, path, depth) => {
    if (refused !== undefined) return undefined;
    if (++values > maxValues) refused = 'the answer holds more than ' + maxValues + ' values';
    if (depth > maxDepth) refused = 'the answer nests deeper than ' + maxDepth + ' levels at ' + at(path);
    const many = (count) => {
      if (count > maxItems) refused = 'the answer lists ' + count + ' items at ' + at(path) + ', more than the ' + maxItems + ' a check reads';
      return refused !== undefined;
    };
    if (Array.isArray(value)) {
      if (many(value.length)) return undefined;
      const item = shape !== true && 'a' in shape ? shape.a : true;
      if (item !== true) return value.map((v) => keep(v, item, path + '[]', depth + 1));
      for (const v of value) keep(v, true, path + '[]', depth + 1);
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (shape !== true && 'o' in shape) {
      const out = {};
      for (const key of Object.keys(shape.o)) {
        if (Object.prototype.hasOwnProperty.call(value, key)) out[key] = keep(value[key], shape.o[key], path ? path + '.' + key : key, depth + 1);
      }
      return out;
    }
    const keys = Object.keys(value);
    if (many(keys.length)) return undefined;
    for (const key of keys) keep(value[key], true, path ? path + '.' + key : key, depth + 1);
    return value;
  };
  const value = keep(parsed, shape, '', 0);
  return refused === undefined ? { value } : { refused };
}
`;

let thread: OffThread | undefined;
/** The heap cap makes a pathological answer end the thread (and fail its run), not the process. */
const jsonThread = (): OffThread => (thread ??= createOffThread('JSON parsing', SOURCE, { maxHeapMb: 256 }));

/**
 * The answer parsed and narrowed to `shape`: on the event loop when small, else on the thread,
 * which the bytes are moved to (not copied: `body` is unusable afterwards). Decoding is left to
 * the thread as well. Rejects when the run's signal aborts first or the thread fails (out of
 * memory, say).
 */
export async function parseAnswer(body: Uint8Array, shape: Shape, signal: AbortSignal): Promise<Parsed> {
  if (body.byteLength <= ON_LOOP_BYTES) return parseHere(body);
  // Only a buffer of its own can be moved; a view into a larger one is copied out first.
  const own = body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer : undefined;
  const bytes = own ?? new Uint8Array(body).buffer;
  return parsedSchema.parse(await jsonThread().run({ bytes, shape, maxItems: MAX_ITEMS, maxValues: MAX_VALUES, maxDepth: MAX_DEPTH }, signal, [bytes]));
}

/** Starts the thread ahead of the first large answer (a daemon's start), so no run waits for it. */
export function startJsonThread(): void {
  jsonThread().warm();
}

/** What the thread answers: the narrowed value, or why the answer is refused. */
const parsedSchema = z.union([z.object({ refused: z.string() }), z.object({ value: z.unknown() })]);

function parseHere(body: Uint8Array): Parsed {
  try {
    return { value: JSON.parse(new TextDecoder().decode(body)) };
  } catch {
    return { refused: 'the API server answered something that is not JSON' };
  }
}
