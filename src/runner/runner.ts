import type { RunLog } from '../results/log.js';
import type { RunContext, Services } from '../checks/check-type.js';
import type { ProbeSample, Run, Sample } from '../results/run.js';
import type { BoundCheck, Progress } from '../checks/registry.js';
import { classifyError } from '../results/classify.js';
import { secretsIn, type Secret } from '../config/secret.js';
import { scrubForms } from '../results/secret-forms.js';
import type { Failure, Result, Step } from '../results/result.js';
import type { Redactions } from '../results/redactions.js';
import { boundResult, type RawResult } from '../results/result-bounds.js';
import { runScope, PeerCrash } from './run-scope.js';
import { RunDeadline, RunTimeout } from './run-deadline.js';

export interface RunOptions {
  log: RunLog;
  services: Services;
  /**
   * Aborts the run from outside (shutdown, an interrupted gate, a caller that left); the run's own
   * timeout is added here. The abort reason's message says why: "cancelled: <message>".
   */
  signal?: AbortSignal;
  /** Keep the step-by-step record (/probe?debug=true). */
  debug?: boolean;
  /**
   * The level of the "check failed" line (default info: `driftwatch run` logs each failure once).
   * The daemon asks for debug and logs state changes itself (daemon/outcome-log.ts), not every run.
   */
  failureLevel?: 'info' | 'debug';
  /** A shorter limit than the check's own timeout (what is left of a Prometheus scrape's). */
  timeoutMs?: number;
  /**
   * The run's deadline when the caller made it already (an on-demand run, whose wait for a slot
   * counted in it): the run uses it instead of making its own from the timeouts above, and the
   * caller disposes of it.
   */
  deadline?: RunDeadline;
}

/**
 * Runs one check once under a hard timeout. Never throws: every failure, including a check
 * that ignores its AbortSignal, becomes a result with a reason. Secret values a check revealed
 * are scrubbed from the result before anyone sees it.
 */
export async function runCheck(check: BoundCheck, options: RunOptions): Promise<Run> {
  const { spec } = check;
  const startedAt = new Date();
  const t0 = performance.now();
  const steps: Step[] | undefined = options.debug ? [] : undefined;
  const deadline = options.deadline ?? new RunDeadline(Math.min(spec.timeout, options.timeoutMs ?? spec.timeout));
  const outer = options.signal;
  // Made only for a run that has an outer signal (a run thread's have none: the thread's deadline is cancelled directly).
  const onOuterAbort =
    outer &&
    (() => {
      deadline.cancel(outer.reason);
    });
  if (outer?.aborted) deadline.cancel(outer.reason);
  else if (onOuterAbort) outer.addEventListener('abort', onOuterAbort, { once: true });
  const log = options.log;
  const { redactions } = options.services;
  rememberSecrets(spec, redactions);

  let failure: Failure | undefined;
  let passedMessage: string | undefined;
  let observations: object | undefined;
  let samples: Sample[];
  let probeSamples: () => ProbeSample[];
  let progress: Progress | undefined;
  try {
    // Inside the run's scope, an exception a client library throws from its own socket listener
    // (a hostile peer's answer) fails this run instead of ending the process: see run-scope.ts.
    // Checks that read peers only through driftwatch's guarded listeners skip it (registry.ts).
    const trace = steps ? (step: string, data?: Record<string, unknown>) => steps.push({ atMs: round(performance.now() - t0), step, ...(data && { data }) }) : ignoreStep;
    const context = new Context(deadline, log, options.services, trace);
    const go = () =>
      check.run(context, (seen) => {
        progress = seen;
      });
    const ran = await deadline.race(
      check.scoped === false
        ? go()
        : runScope.run((err: unknown) => {
            deadline.end(new PeerCrash(err));
          }, go),
    );
    observations = ran.outcome.observations;
    failure = ran.outcome.failure;
    passedMessage = ran.outcome.message;
    samples = ran.samples;
    probeSamples = ran.probeSamples;
  } catch (err) {
    const reason = deadline.reason;
    if (reason instanceof RunTimeout) failure = { reason: 'timeout', message: reason.message };
    else if (reason instanceof PeerCrash) failure = reason.failure();
    else failure = classifyError(err);
    // What the check had seen before the end, if it said: a hanging target's address and phases.
    const seen = progress;
    observations = seen?.observations;
    samples = seen ? seen.samples() : check.emptySamples();
    probeSamples = seen ? () => seen.probeSamples() : () => check.emptyProbeSamples();
  } finally {
    if (options.deadline === undefined) deadline.dispose();
    if (onOuterAbort) outer.removeEventListener('abort', onOuterAbort);
  }

  const durationMs = round(performance.now() - t0);
  const result = finish(check, { failure, passedMessage, startedAt, durationMs, observations, steps }, redactions, log, options.failureLevel);
  return { result, samples, probeSamples };
}

/**
 * A run that never started, as a failed result like any other: an on-demand run whose deadline
 * passed while it waited for a slot. Its series are those of a run without observations.
 */
export function failedRun(check: BoundCheck, failure: Failure, startedAt: Date, redactions: Redactions, log: RunLog, level: 'info' | 'debug' = 'info'): Run {
  const durationMs = round(Date.now() - startedAt.getTime());
  const result = finish(check, { failure, startedAt, durationMs, observations: undefined, steps: undefined }, redactions, log, level);
  return { result, samples: check.emptySamples(), probeSamples: () => check.emptyProbeSamples() };
}

interface Ending {
  failure: Failure | undefined;
  passedMessage?: string | undefined;
  startedAt: Date;
  durationMs: number;
  observations: object | undefined;
  steps: Step[] | undefined;
}

/**
 * The result as it may leave the runner: bounded, and scrubbed of every credential any check has
 * revealed or received (this one's, added again here for what it revealed in this run, and the
 * others'), since a target may echo one check's credential into another's answer.
 */
function finish(check: BoundCheck, ending: Ending, redactions: Redactions, log: RunLog, level: 'info' | 'debug' = 'info'): Result {
  const { spec } = check;
  const { failure, durationMs, steps } = ending;
  const raw: RawResult = {
    name: spec.name,
    type: spec.type,
    ok: failure === undefined,
    ...(failure && { reason: failure.reason }),
    message: failure?.message ?? ending.passedMessage ?? 'ok',
    startedAt: isoTime(ending.startedAt),
    durationMs,
    observations: ending.observations,
    ...(steps && { steps }),
  };
  rememberSecrets(spec, redactions);
  const result = boundResult(raw, redactions.scrubber());
  if (result.ok) log.debug({ durationMs }, 'check passed');
  else log[level]({ reason: result.reason, error: result.message, durationMs }, 'check failed');
  return result;
}

/** The values the spec's secrets have revealed (and values built from them), in the daemon-wide redactions. */
function rememberSecrets(spec: BoundCheck['spec'], redactions: Redactions): void {
  for (const secret of secretsOf(spec)) {
    for (const value of secret.revealedValues()) redactions.add(value, () => scrubForms(value));
  }
}

/** A spec's Secret references, found once per spec (specs do not change after loading) rather than per run. */
const secretsBySpec = new WeakMap<BoundCheck['spec'], Secret[]>();
function secretsOf(spec: BoundCheck['spec']): Secret[] {
  let secrets = secretsBySpec.get(spec);
  if (secrets === undefined) secretsBySpec.set(spec, (secrets = secretsIn(spec)));
  return secrets;
}

/**
 * A run's start as ISO text, as Date#toISOString writes it. Runs start many times a second: the
 * second's text is written once and the milliseconds joined to it (a profile of /probe under
 * load showed toISOString on every run). Joined, not a template, so the kept text is flat.
 */
let isoSecond = Number.NaN;
let isoPrefix = '';
function isoTime(date: Date): string {
  const ms = date.getTime();
  // Outside years 0-9999 (never a run's start) toISOString writes six-digit years.
  if (!(ms >= 0 && ms < 253_402_300_800_000)) return date.toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = date.toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return [isoPrefix, milli < 10 ? '00' : milli < 100 ? '0' : '', milli, 'Z'].join('');
}

/** What a check gets for a run (less its type's progress, which the binding adds: registry.ts). */
class Context implements Omit<RunContext, 'progress'> {
  constructor(
    readonly end: RunDeadline,
    readonly log: RunLog,
    readonly services: Services,
    readonly trace: RunContext['trace'],
  ) {}

  /** The AbortSignal only for a check that reads it (results/end-signal.ts says why). */
  get signal(): AbortSignal {
    return this.end.signal;
  }

  /** Daemon-wide at once: a target may echo it into another check's answer. */
  redact(value: string): void {
    this.services.redactions.add(value, () => scrubForms(value));
  }
}

function ignoreStep(): undefined {
  return undefined;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
