import { REASONS, type Reason, type Result } from '../results/result.js';

/**
 * One earlier run in brief: how it ended and when, without its observations. A check keeps its
 * latest result in full and its last `keep` runs in brief: at 10,000 checks a full result is
 * 0.5-0.65 KB and twenty of them per check were the daemon's largest memory item (bench/README.md).
 */
export interface RunSummary {
  ok: boolean;
  reason?: Reason;
  message: string;
  startedAt: string;
  durationMs: number;
  /** The ingress verdict (healthy, dns-drift, ...), for checks that give one. */
  verdict?: string;
  /** Not run because a dependency failed (the message names it). */
  blocked?: true;
}

const OK = 0;
/** A blocked run in the outcome ring: not a reason, it is not a failure of its own. */
const BLOCKED = -1;

/** Numbers per run in the ring: started at (epoch ms), duration (ms), outcome, slowest phase (packed). */
const FIELDS = 4;
/** The phases an HTTP exchange is timed by (observations.phases), for the slowest-phase line. */
const PHASE_NAMES = ['dns', 'connect', 'tls', 'processing', 'transfer'] as const;
const NO_PHASE = -1;

/** One run's timing, for the response-time sparkline and chart. */
export interface RunTiming {
  at: number;
  durationMs: number;
  ok: boolean;
  /** The slowest phase of the run, where the check times phases (http, ingress, openapi). */
  slowest?: { phase: string; ms: number };
}

/**
 * A ring of the last `size` runs in brief, kept in one number array (V8 stores it unboxed) and
 * one string array, rather than as an object and a date string per run: about 30 bytes a run
 * instead of about 100, which at 10,000 checks x 20 runs is some 15 MB of live heap less, and V8
 * sizes its heap from the live heap (bench/README.md). A message or verdict repeated run after
 * run is stored once. The arrays are made at the first run: a check that has not run yet (a
 * daily cron, or any check just after start-up) holds none.
 */
export class RunHistory {
  /** FIELDS numbers per run: startedAt, durationMs, outcome (OK, BLOCKED, or 1 + the reason's index in REASONS), slowest phase. */
  private numbers: number[] | undefined;
  private message: string[] | undefined;
  private verdict: (string | undefined)[] | undefined;
  /** Where the next run goes; runs stored so far. */
  private head = 0;
  private count = 0;

  constructor(private readonly size: number) {}

  get length(): number {
    return this.count;
  }

  push(result: Result): void {
    const at = this.head;
    const before = (at + this.size - 1) % this.size;
    const repeated = this.count > 0;
    // Filled with doubles so the array starts with the unboxed double representation.
    const numbers = (this.numbers ??= new Array<number>(this.size * FIELDS).fill(0.5));
    const message = (this.message ??= new Array<string>(this.size).fill(''));
    numbers[at * FIELDS] = Date.parse(result.startedAt);
    numbers[at * FIELDS + 1] = result.durationMs;
    numbers[at * FIELDS + 2] = result.ok ? OK : result.blocked ? BLOCKED : 1 + REASONS.indexOf(result.reason ?? 'error');
    numbers[at * FIELDS + 3] = slowestPhase(result.observations.phases);
    message[at] = repeated && message[before] === result.message ? (message[before] ?? result.message) : result.message;
    const verdict = result.observations.verdict;
    if (typeof verdict === 'string' || this.verdict) {
      this.verdict ??= new Array<string | undefined>(this.size).fill(undefined);
      const previous = this.verdict[before];
      this.verdict[at] = typeof verdict !== 'string' ? undefined : repeated && previous === verdict ? previous : verdict;
    }
    this.head = (at + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** Oldest first: when each run started, how long it took, its slowest phase if timed by phase. */
  timings(): RunTiming[] {
    const runs: RunTiming[] = [];
    for (let i = this.count; i >= 1; i--) {
      const at = (this.head - i + this.size) % this.size;
      const packed = this.numbers?.[at * FIELDS + 3] ?? NO_PHASE;
      const phase = packed >= 0 ? PHASE_NAMES[packed % 8] : undefined;
      runs.push({
        at: this.numbers?.[at * FIELDS] ?? 0,
        durationMs: this.numbers?.[at * FIELDS + 1] ?? 0,
        ok: (this.numbers?.[at * FIELDS + 2] ?? OK) === OK,
        ...(phase !== undefined && { slowest: { phase, ms: Math.floor(packed / 8) / 1000 } }),
      });
    }
    return runs;
  }

  /** Newest first. */
  list(): RunSummary[] {
    const runs: RunSummary[] = [];
    for (let i = 1; i <= this.count; i++) {
      const at = (this.head - i + this.size) % this.size;
      const outcome = this.numbers?.[at * FIELDS + 2] ?? OK;
      const verdict = this.verdict?.[at];
      runs.push({
        ok: outcome === OK,
        ...(outcome > OK && { reason: REASONS[outcome - 1] ?? 'error' }),
        ...(outcome === BLOCKED && { blocked: true as const }),
        message: this.message?.[at] ?? '',
        startedAt: new Date(this.numbers?.[at * FIELDS] ?? 0).toISOString(),
        durationMs: this.numbers?.[at * FIELDS + 1] ?? 0,
        ...(verdict !== undefined && { verdict }),
      });
    }
    return runs;
  }
}

/**
 * The slowest phase as one number (microseconds x 8 + the phase's index), so the ring stays one
 * unboxed number array: 8 bytes a run more, no object. NO_PHASE when the result has no phases.
 */
function slowestPhase(phases: unknown): number {
  if (typeof phases !== 'object' || phases === null) return NO_PHASE;
  let best = NO_PHASE;
  let bestMs = -1;
  PHASE_NAMES.forEach((name, index) => {
    const ms: unknown = Reflect.get(phases, name);
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms > bestMs) {
      bestMs = ms;
      best = Math.round(ms * 1000) * 8 + index;
    }
  });
  return best;
}
