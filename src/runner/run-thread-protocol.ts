import type { ProbeSample, Sample } from '../results/run.js';
import type { Result } from '../results/result.js';
import type { Packed } from './sample-shapes.js';

/**
 * The messages between the daemon's thread and a run thread (run-threads.ts, run-thread.ts).
 * Plain data only: structured clone carries them.
 */

/** What a run thread is started with. */
export interface ThreadData {
  release: string | undefined;
  /** The daemon logger's level: the thread sends only lines that would be written. */
  level: string;
  /** The credentials known when the thread starts; later ones come as `redact` messages. */
  redactions: string[];
}

export type ToThread =
  | {
      t: 'run';
      id: number;
      name: string;
      /** The spec's key; with `spec` the first time this thread runs this version of the check. */
      key: string;
      spec?: string;
      /** The limit the result names, and what is left of it when the run starts. */
      timeoutMs: number;
      leftMs: number;
      debug: boolean;
      failureLevel: 'info' | 'debug';
      /** A /probe run pointed elsewhere within the check's allowTargets. */
      target?: { target: string; as: 'check' | 'module' };
      /** Send the blackbox-named samples (on-demand runs; scheduled ones never read them). */
      probe: boolean;
    }
  /** The run was cancelled (shutdown, a caller that left): the reason is the result's message. */
  | { t: 'abort'; id: number; reason: string }
  | { t: 'redact'; value: string }
  | { t: 'forget'; name: string }
  /** Several of the above, in the order posted: what one turn of the daemon's thread sent (thread-handle.ts). */
  | { t: 'batch'; messages: ToThread[] };

export type FromThread =
  | { t: 'ready' }
  /** samples and probe (a /probe run's blackbox-named samples) whole or as values only: sample-shapes.ts. */
  | { t: 'done'; id: number; result: Result; samples: Packed<Sample>; probe?: Packed<ProbeSample>; added: number; evicted: boolean }
  /** The thread could not rebuild the check (it then runs on the daemon's thread). */
  | { t: 'unportable'; id: number }
  | { t: 'redact'; value: string }
  /** The run ended but its answer could not be sent (a bug: the runner's results are plain data). */
  | { t: 'failed'; id: number; message: string }
  | { t: 'log'; id: number | undefined; level: number; msg: string; fields: Record<string, unknown> }
  | { t: 'fatal'; code: string }
  /** Several of the above, in the order sent (thread-outbox.ts). */
  | { t: 'batch'; messages: FromThread[] };

/** The thread's workerData, checked: it comes from our own daemon, but through an untyped channel. */
export function threadData(value: unknown): ThreadData {
  const record = typeof value === 'object' && value !== null ? { ...value } : {};
  const release = 'release' in record && typeof record.release === 'string' ? record.release : undefined;
  const level = 'level' in record && typeof record.level === 'string' ? record.level : 'info';
  const redactions = 'redactions' in record && Array.isArray(record.redactions) ? record.redactions.filter((v): v is string => typeof v === 'string') : [];
  return { release, level, redactions };
}
