import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { ProbeSample, Sample } from '../results/run.js';
import type { Reason, Result } from '../results/result.js';
import { IdTable } from './id-table.js';
import { ShapeReceiver } from './sample-shapes.js';
import { ThreadOutbox } from './thread-outbox.js';
import type { FromThread, ThreadData, ToThread } from './run-thread-protocol.js';

/**
 * One run thread as the daemon's thread sees it: the worker, the runs it has in hand, and which
 * version of each check it holds (so a spec crosses once, not with every run).
 */
export interface ThreadHandle {
  /** It has loaded its code and said so. */
  readonly ready: boolean;
  /** The runs it has in hand, under the ids their messages carry. */
  readonly jobs: IdTable<ThreadJob>;
  /** Check name -> the key of the spec this thread was last sent. */
  readonly sent: Map<string, string>;
  /** Messages handed to the worker so far: what one turn posts crosses as one. */
  readonly crossings: number;
  post(message: ToThread): void;
  terminate(): Promise<void>;
}

/** A run handed to a thread, until its answer (or the thread's end) settles it. */
export interface ThreadJob {
  /** Epoch ms after which a thread that has not answered is stuck. */
  deadline: number;
  done(answer: { result: Result; samples: Sample[]; probeSamples: ProbeSample[] | undefined; added: number; evicted: boolean }): void;
  unportable(): void;
  failed(reason: Reason, message: string): void;
  log(level: number, msg: string, fields: Record<string, unknown>): void;
}

export interface ThreadEvents {
  ready(): void;
  redact(value: string): void;
  /** The thread ended (crashed, exited, terminated); its jobs are still in `jobs`. */
  exit(why: string): void;
}

const ENTRY = new URL('./run-thread.js', import.meta.url);
/**
 * From the TypeScript sources (vitest, tsx) there is no .js to start, and Node 20 does not hand
 * tsx's loader to a worker: the thread registers tsx itself, then imports the .ts entry.
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const BOOT_FROM_SOURCES = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); }).catch((err) => { setImmediate(() => { throw err; }); });
`;

export function startThread(data: ThreadData, events: ThreadEvents): ThreadHandle {
  const worker = FROM_SOURCES
    ? new Worker(BOOT_FROM_SOURCES, { eval: true, env: SHARE_ENV, workerData: { ...data, tsx: tsxApi(), entry: new URL('./run-thread.ts', import.meta.url).href } })
    : new Worker(ENTRY, { env: SHARE_ENV, workerData: data });
  // The daemon's server and timers keep the process alive; a thread alone must not.
  worker.unref();
  const jobs = new IdTable<ThreadJob>();
  let ended = false;
  let ready = false;
  const shapes = { samples: new ShapeReceiver<Sample>(), probe: new ShapeReceiver<ProbeSample>() };
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    events.exit(why);
  };
  const read = (message: FromThread): void => {
    if (message.t === 'batch') {
      // In the order the thread sent them (thread-outbox.ts); a batch never holds a batch.
      for (const one of message.messages) if (one.t !== 'batch') read(one);
      return;
    }
    if (message.t === 'ready') {
      ready = true;
      events.ready();
      return;
    }
    if (message.t === 'redact') {
      events.redact(message.value);
      return;
    }
    if (message.t === 'fatal') {
      end(`its code failed (${message.code})`);
      return;
    }
    if (message.t === 'log') {
      if (message.id !== undefined) jobs.get(message.id)?.log(message.level, message.msg, message.fields);
      return;
    }
    const job = jobs.take(message.id);
    if (job === undefined) return;
    if (message.t === 'done') job.done({ result: message.result, samples: shapes.samples.unpack(message.samples), probeSamples: message.probe && shapes.probe.unpack(message.probe), added: message.added, evicted: message.evicted });
    else if (message.t === 'unportable') job.unportable();
    else job.failed('error', `the run thread could not send the result (${message.message})`);
  };
  /**
   * What one turn of the daemon's thread posts goes as one message when the turn ends: the runs
   * a scheduler tick starts (a few dozen at 2,000 a second) cross at once, and the thread reads
   * them in one wake-up. A run whose message cannot be sent (a bug: they are plain data) fails.
   */
  let crossings = 0;
  const outbox = new ThreadOutbox<ToThread>(
    (message) => {
      if (ended) return;
      worker.postMessage(message);
      crossings++;
    },
    'turn',
    (message, err) => {
      if (message.t === 'run') jobs.take(message.id)?.failed('error', `the run could not be handed to its thread (${err instanceof Error ? err.name : 'error'})`);
      return undefined;
    },
  );
  worker.on('message', read);
  worker.on('error', (err) => {
    end(`it failed (${err.name}: ${err.message})`);
  });
  worker.on('exit', (code) => {
    end(`it exited (code ${code})`);
  });
  return {
    get ready() {
      return ready;
    },
    jobs,
    sent: new Map(),
    get crossings() {
      return crossings;
    },
    post(message) {
      if (!ended) outbox.post(message);
    },
    async terminate() {
      await worker.terminate();
    },
  };
}

/** tsx's ESM API (its CommonJS twin registers the loader from the wrong place when imported). */
function tsxApi(): string {
  return pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs')).href;
}
