import { Worker } from 'node:worker_threads';
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

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
// Parsing is background work: on Linux this thread (its own task id) yields the CPU to the event
// loop's thread when both want it. Elsewhere, or when refused, it runs at the normal priority.
try {
  const task = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (task > 0) require('node:os').setPriority(task, 10);
} catch {}
parentPort.on('message', (job) => {
  try {
    read(job);
  } catch (err) {
    parentPort.postMessage({ id: job.id, refused: 'the answer could not be read (' + String((err && err.message) || err) + ')' });
  }
});
function read({ id, bytes, shape, maxItems, maxValues, maxDepth }) {
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes)));
  } catch {
    parentPort.postMessage({ id, refused: 'the API server answered something that is not JSON' });
    return;
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
  parentPort.postMessage(refused === undefined ? { id, value } : { id, refused });
}
`;

interface Job {
  /** The thread parsing it: a failed thread fails its own jobs, not those of the one after it. */
  on: Worker;
  resolve(parsed: Parsed): void;
  reject(err: Error): void;
}

let worker: Worker | undefined;
const pending = new Map<number, Job>();
let nextId = 1;

/**
 * The answer parsed and narrowed to `shape`: on the event loop when small, else on the thread,
 * which the bytes are moved to (not copied: `body` is unusable afterwards). Decoding is left to
 * the thread as well. Rejects when the run's signal aborts first or the thread fails (out of
 * memory, say).
 */
export function parseAnswer(body: Uint8Array, shape: Shape, signal: AbortSignal): Promise<Parsed> {
  if (body.byteLength <= ON_LOOP_BYTES) return Promise.resolve(parseHere(body));
  return new Promise<Parsed>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const id = nextId++;
    // An aborted parse is not stopped: it lasts a second at most, and its answer is dropped.
    const onAbort = () => {
      pending.delete(id);
      idle();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      pending.delete(id);
      idle();
    };
    const on = ensureWorker();
    pending.set(id, {
      on,
      resolve: (parsed) => {
        done();
        resolve(parsed);
      },
      reject: (err) => {
        done();
        reject(err);
      },
    });
    // Only a buffer of its own can be moved; a view into a larger one is copied out first.
    const own = body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer : undefined;
    const bytes = own ?? new Uint8Array(body).buffer;
    on.postMessage({ id, bytes, shape, maxItems: MAX_ITEMS, maxValues: MAX_VALUES, maxDepth: MAX_DEPTH }, [bytes]);
    // A parse under way keeps the process alive (a `driftwatch run` waiting for it); an idle thread does not.
    on.ref();
  });
}

/** Starts the thread ahead of the first large answer (a daemon's start), so no run waits for it. */
export function startJsonThread(): void {
  ensureWorker();
}

function idle(): void {
  if (pending.size === 0) worker?.unref();
}

function parseHere(body: Uint8Array): Parsed {
  try {
    return { value: JSON.parse(new TextDecoder().decode(body)) };
  } catch {
    return { refused: 'the API server answered something that is not JSON' };
  }
}

function ensureWorker(): Worker {
  if (worker) return worker;
  // The heap cap makes a pathological answer end the thread (and fail its run), not the process.
  const created = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 256 } });
  created.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const job = pending.get(message.id);
    if (message.refused !== undefined) job?.resolve({ refused: message.refused });
    else job?.resolve({ value: message.value });
  });
  const fail = (err: unknown) => {
    if (worker === created) worker = undefined;
    const why = err instanceof Error ? err.message : 'stopped';
    for (const job of [...pending.values()]) if (job.on === created) job.reject(new Error(`the JSON parsing thread failed: ${why}`));
  };
  created.on('error', fail);
  created.on('exit', () => {
    fail(new Error('exited'));
  });
  // Never keeps a finished `driftwatch run` or a stopped daemon alive (after the listeners).
  created.unref();
  worker = created;
  return created;
}

interface Reply {
  id: number;
  value?: unknown;
  refused?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number';
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
