import { parentPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { bind, type BoundCheck } from '../checks/registry.js';
import { LazyChildLog } from '../results/log.js';
import type { ProbeSample, Sample } from '../results/run.js';
import { scrubForms } from '../results/secret-forms.js';
import { threadData, type FromThread, type ToThread } from './run-thread-protocol.js';
import { specFromPortable } from './portable-spec.js';
import { RunDeadline, RunTimeout } from './run-deadline.js';
import { containCrash } from './run-scope.js';
import { runCheck } from './runner.js';
import { createServices } from './services.js';
import { ShapeSender } from './sample-shapes.js';
import { ThreadOutbox } from './thread-outbox.js';
import { retarget } from './target.js';

/**
 * A run thread (started by run-threads.ts): runs checks the daemon's thread hands it with the
 * same runner, and sends back the run as the runner made it. It keeps the checks it has run,
 * rebuilt from their portable specs, and its own copy of the credentials to scrub, kept equal
 * to the daemon's by `redact` messages both ways.
 */
const port = parentPort;
if (port === null) throw new Error('run-thread.ts runs as a worker thread only');
const data = threadData(workerData);
/**
 * How long a scheduled run's answer may wait for others to cross with it (thread-outbox.ts). It
 * holds the run's slot that much longer: at 1,667 runs a second, about 8 more of the default 64
 * on average. It cut 5-10 % of a scheduled http run's CPU on a 2-core VM (bench/README.md,
 * "Scheduled runs").
 */
const ANSWER_BATCH_MS = 5;
const outbox = new ThreadOutbox<FromThread>(
  (message) => {
    port.postMessage(message);
  },
  ANSWER_BATCH_MS,
  (message, err) => {
    if (message.t !== 'done') return undefined;
    // A shape recorded but never sent would make later values unreadable: every shape is sent whole anew.
    shapes.samples.restart();
    shapes.probe.restart();
    return { t: 'failed', id: message.id, message: err instanceof Error ? err.name : 'error' };
  },
);
/** `urgent`: at once (someone waits for it), with whatever waited before it. */
const post = (message: FromThread, urgent: boolean) => {
  outbox.post(message, urgent);
};

const services = createServices({ release: data.release });
for (const value of data.redactions) services.redactions.add(value, () => scrubForms(value));
services.redactions.onNew((value) => {
  post({ t: 'redact', value }, false);
});

const LEVELS: Record<number, true> = { 10: true, 20: true, 30: true, 40: true, 50: true, 60: true };
const root = pino(
  { level: data.level, base: null, timestamp: false },
  {
    write(line: string) {
      const { level, msg, job, ...fields } = parseLine(line);
      if (typeof level === 'number' && LEVELS[level]) post({ t: 'log', id: typeof job === 'number' ? job : undefined, level, msg: typeof msg === 'string' ? msg : '', fields }, false);
    },
  },
);

/** The shapes of the samples and /probe samples sent whole (sample-shapes.ts). */
const shapes = { samples: new ShapeSender<Sample>(), probe: new ShapeSender<ProbeSample>() };
/** The checks this thread has run, by name, as of the key it last got. */
const checks = new Map<string, { key: string; bound: BoundCheck }>();
/**
 * The runs going on here, under the daemon's ids: an array, not a Map that gains and loses a key
 * per run (id-table.ts says why); a thread runs a few dozen at most, and only an abort looks one up.
 */
const running: { id: number; deadline: RunDeadline }[] = [];

process.on('uncaughtException', (err) => {
  if (containCrash(err)) return;
  post({ t: 'fatal', code: err instanceof Error ? (errorCode(err) ?? err.name) : typeof err }, true);
  process.exit(1);
});

port.on('message', (message: ToThread) => {
  // Both threads are awake now: answers that waited go at once, without a wake-up of their own.
  outbox.flush();
  read(message);
});
post({ t: 'ready' }, true);

function read(message: ToThread): void {
  switch (message.t) {
    case 'batch':
      // In the order posted; a batch never holds a batch.
      for (const one of message.messages) if (one.t !== 'batch') read(one);
      return;
    case 'run':
      void run(message);
      return;
    case 'abort':
      running.find((entry) => entry.id === message.id)?.deadline.end(new RunTimeout(message.reason));
      return;
    case 'redact':
      services.redactions.add(message.value, () => scrubForms(message.value));
      return;
    case 'forget':
      checks.delete(message.name);
      shapes.samples.forget(message.name);
      shapes.probe.forget(message.name);
      return;
  }
}

async function run(message: Extract<ToThread, { t: 'run' }>): Promise<void> {
  const bound = boundFor(message);
  if (bound === undefined) {
    post({ t: 'unportable', id: message.id }, true);
    return;
  }
  const deadline = new RunDeadline(message.timeoutMs, message.leftMs);
  const entry = { id: message.id, deadline };
  running.push(entry);
  try {
    const ran = await runCheck(bound, { log: new JobLog(root, message.id), services, deadline, debug: message.debug, failureLevel: message.failureLevel });
    const samples = shapes.samples.pack(message.name, ran.samples);
    const probe = message.probe ? shapes.probe.pack(message.name, ran.probeSamples()) : undefined;
    // A /probe answer at once; a scheduled run's may wait a few ms for others (ANSWER_BATCH_MS).
    post({ t: 'done', id: message.id, result: ran.result, samples, probe, added: services.redactions.added, evicted: services.redactions.evicted }, message.probe);
  } finally {
    deadline.dispose();
    running.splice(running.indexOf(entry), 1);
    // The thread's last run out sends what waited: the others of its batch are done, and the thread is awake now, not in 5 ms.
    if (running.length === 0) outbox.flush();
  }
}

/** The check of the message: as kept, or rebuilt from the spec sent with it; pointed at the run's target. */
function boundFor(message: Extract<ToThread, { t: 'run' }>): BoundCheck | undefined {
  let kept = checks.get(message.name);
  if (message.spec !== undefined) {
    const spec = specFromPortable(message.spec, message.key);
    if (spec === undefined) return undefined;
    kept = { key: message.key, bound: bind(spec) };
    checks.set(message.name, kept);
  }
  if (kept === undefined || kept.key !== message.key) return undefined;
  if (message.target === undefined) return kept.bound;
  // The daemon's thread has checked the target against allowTargets already; retarget checks again.
  try {
    return retarget(kept.bound, message.target.target, message.target.as);
  } catch {
    return undefined;
  }
}

/**
 * A run's lines carry its id, for the daemon's thread to write them as the run's own. Not an
 * AsyncLocalStorage: on Node 20 each one adds work to every promise made (the run scope is
 * one already), and a run writes no line at all at the usual level.
 */
class JobLog extends LazyChildLog {
  constructor(
    root: Logger,
    private readonly id: number,
  ) {
    super(root);
  }

  protected bindings(): Record<string, unknown> {
    return { job: this.id };
  }
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? { ...value } : {};
  } catch {
    return {};
  }
}

function errorCode(err: Error): string | undefined {
  return 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
