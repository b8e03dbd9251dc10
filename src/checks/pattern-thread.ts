import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/*
 * One worker thread that matches RE2 patterns against long text (a large response body), so the
 * event loop keeps answering /metrics and /healthz meanwhile. Jobs run one at a time; a job whose
 * run is aborted (its timeout) terminates the thread, which the next job starts again. The
 * worker is plain JavaScript given as source, requiring re2js by its resolved path: the same code
 * runs from the TypeScript sources (vitest, tsx) and from dist/.
 */

const RE2JS_PATH = createRequire(import.meta.url).resolve('re2js');

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS } = require(workerData.re2js);
const cache = new Map();
parentPort.on('message', ({ id, sources, text }) => {
  try {
    const results = sources.map((source) => {
      let re = cache.get(source);
      if (re === undefined) {
        if (cache.size > 1000) cache.clear();
        re = RE2JS.compile(source);
        cache.set(source, re);
      }
      return re.matcher(text).find();
    });
    parentPort.postMessage({ id, results });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

interface Job {
  id: number;
  sources: readonly string[];
  text: string;
  signal: AbortSignal;
  resolve(results: boolean[]): void;
  reject(err: unknown): void;
}

let worker: Worker | undefined;
/** The job the thread is matching now, and the thread it went to. */
let current: Job | undefined;
let currentOn: Worker | undefined;
const queue: Job[] = [];
let nextId = 1;

/** The patterns matched against the text on the worker thread; rejects with the signal's reason when it aborts first. */
export function matchOffThread(sources: readonly string[], text: string, signal: AbortSignal): Promise<boolean[]> {
  return new Promise<boolean[]>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const job: Job = { id: nextId++, sources, text, signal, resolve, reject };
    const onAbort = () => {
      if (current === job) {
        // The thread is busy with this job's text: stop it rather than let it finish for nobody.
        current = undefined;
        void stopWorker();
        pump();
      } else {
        const at = queue.indexOf(job);
        if (at >= 0) queue.splice(at, 1);
      }
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = <T>(fn: (value: T) => void) => (value: T) => {
      signal.removeEventListener('abort', onAbort);
      fn(value);
    };
    job.resolve = settle(resolve);
    job.reject = settle(reject);
    queue.push(job);
    pump();
  });
}

function pump(): void {
  if (current !== undefined) return;
  const job = queue.shift();
  if (job === undefined) return;
  current = job;
  currentOn = ensureWorker();
  currentOn.postMessage({ id: job.id, sources: job.sources, text: job.text });
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const created = new Worker(WORKER_SOURCE, { eval: true, workerData: { re2js: RE2JS_PATH } });
  created.on('message', (message: unknown) => {
    const job = current;
    if (job === undefined || !isReply(message) || message.id !== job.id) return;
    current = undefined;
    if (message.error !== undefined) job.reject(new Error(`pattern matching failed: ${message.error}`));
    else job.resolve(message.results ?? []);
    pump();
  });
  const fail = (err: unknown) => {
    if (worker === created) worker = undefined;
    // Only the job this thread had: a terminated thread's exit comes after a new one took over.
    if (currentOn !== created) return;
    const job = current;
    current = undefined;
    job?.reject(err instanceof Error ? err : new Error('the pattern thread stopped'));
    pump();
  };
  created.on('error', fail);
  created.on('exit', () => {
    fail(new Error('the pattern thread stopped'));
  });
  // Never keeps a finished `driftwatch run` or a stopped daemon alive (after the listeners:
  // adding a 'message' listener refs the thread again).
  created.unref();
  worker = created;
  return created;
}

async function stopWorker(): Promise<void> {
  const stopping = worker;
  worker = undefined;
  await stopping?.terminate();
}

interface Reply {
  id: number;
  results?: boolean[];
  error?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number';
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
