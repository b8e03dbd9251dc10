import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedCheck } from '../checks/registry.js';
import type { Result } from '../results/result.js';
import { ConvergenceWatch, type ExpectedConvergence } from './convergence.js';
import { graphOrder, runRound } from './graph.js';
import { GateInterrupted, type InterruptSignal } from './interrupt.js';

/** One check of the gate: its last result, how often it was run, and when it first passed. */
export interface GateCheck {
  result: Result;
  /** Runs of the check (a round in which it was blocked is not a run). */
  attempts: number;
  /** From the start of the gate to the end of its first passing run; absent when it never passed. */
  passedAfterMs?: number;
}

export interface GateOutcome {
  /** In dependency order. */
  checks: GateCheck[];
  rounds: number;
  elapsedMs: number;
  /** The signal that stopped the gate before it decided (`signal` aborted by watchInterrupts). */
  interrupted?: InterruptSignal;
}

/** Where the gate stands after a round, for the progress line. */
export interface RoundProgress {
  round: number;
  elapsedMs: number;
  waitMs: number;
  results: readonly Result[];
  /** The pause before the next round; undefined when this was the last one. */
  nextInMs: number | undefined;
  /** Resolvers still serving a cached old answer, and when it runs out (dns checks with `authoritative`). */
  converging?: ExpectedConvergence[];
}

export interface GateOptions {
  /** How long to keep rerunning what fails, from `startedAt`; 0 runs one round (plain `run`). */
  waitMs: number;
  /** The longest pause between rounds: pauses start at 1 s (or this, if shorter) and double up to it. */
  everyMs: number;
  /** performance.now() when the gate started (the deadline counts from here, loading included). */
  startedAt: number;
  signal?: AbortSignal;
  onRound?(progress: RoundProgress): void;
}

export const DEFAULT_EVERY_MS = 10_000;

/** Milliseconds as the gate prints them: "0.4s", "6.1s", "2m05s". */
export function formatSeconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}
const FIRST_PAUSE_MS = 1000;

/** The pause after round `round` (1, 2, ...): 1 s, 2 s, 4 s ... up to everyMs. */
export function pauseAfter(round: number, everyMs: number): number {
  return Math.min(everyMs, FIRST_PAUSE_MS * 2 ** Math.min(round - 1, 30));
}

/**
 * Runs every check once in dependency order; then, while some fail (or are blocked) and the
 * deadline has not passed, pauses with backoff and reruns only those: a check that passed once
 * stays passed. The last round starts at the deadline at the latest, so a check that turns
 * healthy just before it is still seen; a round that has started finishes (each run has its own
 * timeout), so the gate can end up to one check timeout after the deadline.
 */
export async function runGate(checks: readonly LoadedCheck[], execute: (check: LoadedCheck) => Promise<Result>, options: GateOptions): Promise<GateOutcome> {
  const deadline = options.startedAt + options.waitMs;
  const attempts = new Map<string, number>();
  const passedAfter = new Map<string, number>();
  const latest = new Map<string, Result>();
  const counted = async (check: LoadedCheck): Promise<Result> => {
    const result = await execute(check);
    attempts.set(check.spec.name, (attempts.get(check.spec.name) ?? 0) + 1);
    if (result.ok && !passedAfter.has(check.spec.name)) passedAfter.set(check.spec.name, performance.now() - options.startedAt);
    return result;
  };
  // Checks whose resolvers kept an old answer past its TTL: waiting longer will not help them.
  const watch = new ConvergenceWatch();
  const settled = new Set<string>();
  let round = 0;
  for (;;) {
    round += 1;
    const remaining = checks.filter((check) => latest.get(check.spec.name)?.ok !== true && !settled.has(check.spec.name));
    const passed = new Map([...latest].filter(([, result]) => result.ok));
    for (const result of await runRound(remaining, passed, counted)) {
      const overdue = watch.observe(result, performance.now() - options.startedAt);
      if (overdue !== undefined) settled.add(result.name);
      latest.set(result.name, overdue ?? result);
    }
    const now = performance.now();
    const failing = [...latest.values()].some((result) => !result.ok && !settled.has(result.name));
    const look = watch.nextLookMs(now - options.startedAt);
    const pauseUntil = Math.min(now + pauseAfter(round, options.everyMs), look === undefined ? Infinity : options.startedAt + look);
    const nextAt = failing && now < deadline && options.signal?.aborted !== true ? Math.min(pauseUntil, deadline) : undefined;
    const converging = watch.expected().filter((e) => !settled.has(e.check));
    options.onRound?.({
      round,
      elapsedMs: now - options.startedAt,
      waitMs: options.waitMs,
      results: [...latest.values()],
      nextInMs: nextAt === undefined ? undefined : nextAt - now,
      ...(converging.length > 0 && { converging }),
    });
    if (nextAt === undefined) break;
    try {
      await sleep(nextAt - now, undefined, { signal: options.signal });
    } catch {
      break; // aborted: report what we have
    }
  }
  const ordered = graphOrder(checks).flatMap((check) => {
    const result = latest.get(check.spec.name);
    if (result === undefined) return [];
    const after = passedAfter.get(check.spec.name);
    return [{ result, attempts: attempts.get(check.spec.name) ?? 0, ...(after !== undefined && { passedAfterMs: Math.round(after) }) }];
  });
  const reason: unknown = options.signal?.reason;
  return {
    checks: ordered,
    rounds: round,
    elapsedMs: Math.round(performance.now() - options.startedAt),
    ...(reason instanceof GateInterrupted && { interrupted: reason.signal }),
  };
}
