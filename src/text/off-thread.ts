import { Worker } from 'node:worker_threads';

/*
 * CPU-heavy work on text a target sent (matching patterns against a large body, parsing a large
 * YAML document) runs on a worker thread, so the event loop keeps answering /metrics and
 * /healthz meanwhile, and a run's deadline can stop it. Each kind of work has one thread; jobs run
 * one at a time; a job whose run is aborted terminates the thread, which the next job starts
 * again. The thread's code is plain JavaScript given as source (CommonJS, `require` of packages by
 * their resolved paths in workerData): the same code runs from the TypeScript sources (vitest,
 * tsx, whose loader Node 20 does not hand to workers) and from dist/.
 *
 * The source must answer each { id, input } message with { id, output } or { id, error }. It
 * runs at a lower priority than the event loop's thread where the OS lets it (Linux: each thread
 * is a task of its own), and keeps the process alive only while it has work.
 */

export interface OffThread {
  /**
   * The thread's answer to `input`; rejects with the signal's reason when it aborts first, or when
   * the thread fails (out of its memory limit, say). Buffers in `transfer` are moved, not copied.
   */
  run(input: unknown, signal: AbortSignal, transfer?: ArrayBuffer[]): Promise<unknown>;
  /** Starts the thread ahead of the first job (a daemon's start), so no run waits for it. */
  warm(): void;
}

export interface OffThreadOptions {
  workerData?: unknown;
  /** A heap limit, so a pathological input ends the thread (and fails its run), not the process. */
  maxHeapMb?: number;
}

/** Background work yields the CPU to the event loop's thread when both want it (Linux; elsewhere a no-op). */
const PREAMBLE = `
try {
  const task = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  if (task > 0) require('node:os').setPriority(task, 10);
} catch {}
`;

interface Job {
  id: number;
  input: unknown;
  transfer: ArrayBuffer[];
  resolve(output: unknown): void;
  reject(err: Error): void;
}

export function createOffThread(name: string, source: string, options: OffThreadOptions = {}): OffThread {
  let worker: Worker | undefined;
  /** The job the thread works on now, and the thread it went to. */
  let current: Job | undefined;
  let currentOn: Worker | undefined;
  const queue: Job[] = [];
  let nextId = 1;

  const pump = () => {
    if (current !== undefined) return;
    const job = queue.shift();
    if (job === undefined) {
      worker?.unref();
      return;
    }
    current = job;
    currentOn = ensureWorker();
    currentOn.postMessage({ id: job.id, input: job.input }, job.transfer);
    // A job under way keeps the process alive (a `driftwatch run` waiting for it); an idle thread does not.
    currentOn.ref();
  };

  const ensureWorker = (): Worker => {
    if (worker) return worker;
    const limits = options.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } };
    const created = new Worker(PREAMBLE + source, { eval: true, workerData: options.workerData, ...limits });
    created.on('message', (message: unknown) => {
      const job = current;
      if (job === undefined || !isReply(message) || message.id !== job.id) return;
      current = undefined;
      if (typeof message.error === 'string') job.reject(new Error(`${name} failed: ${message.error}`));
      else job.resolve(message.output);
      pump();
    });
    const fail = (err: unknown) => {
      if (worker === created) worker = undefined;
      // Only the job this thread had: a terminated thread's exit comes after a new one took over.
      if (currentOn !== created) return;
      const job = current;
      current = undefined;
      job?.reject(err instanceof Error ? err : new Error(`the ${name} thread stopped`));
      pump();
    };
    created.on('error', fail);
    created.on('exit', () => {
      fail(new Error(`the ${name} thread stopped`));
    });
    // Never keeps a finished `driftwatch run` or a stopped daemon alive (after the listeners:
    // adding a 'message' listener refs the thread again).
    created.unref();
    worker = created;
    return created;
  };

  return {
    warm() {
      ensureWorker();
    },
    run(input, signal, transfer = []) {
      return new Promise<unknown>((resolve, reject) => {
        if (signal.aborted) {
          reject(abortReason(signal));
          return;
        }
        const onAbort = () => {
          if (current === job) {
            // The thread is busy with this job: stop it rather than let it finish for nobody.
            current = undefined;
            const stopping = worker;
            worker = undefined;
            void stopping?.terminate();
            pump();
          } else {
            const at = queue.indexOf(job);
            if (at >= 0) queue.splice(at, 1);
          }
          reject(abortReason(signal));
        };
        const job: Job = {
          id: nextId++,
          input,
          transfer,
          resolve: (output) => {
            signal.removeEventListener('abort', onAbort);
            resolve(output);
          },
          reject: (err: Error) => {
            signal.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queue.push(job);
        pump();
      });
    },
  };
}

interface Reply {
  id: number;
  output?: unknown;
  error?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number';
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
