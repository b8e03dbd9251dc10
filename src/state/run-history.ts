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

/** Numbers per run in the ring: started at (epoch ms), duration (ms), outcome. */
const FIELDS = 3;

/**
 * A ring of the last `size` runs in brief, kept in one number array (V8 stores it unboxed) and
 * one string array, rather than as an object and a date string per run: about 30 bytes a run
 * instead of about 100, which at 10,000 checks x 20 runs is some 15 MB of live heap less, and V8
 * sizes its heap from the live heap (bench/README.md). A message or verdict repeated run after
 * run is stored once. The arrays are made at the first run: a check that has not run yet (a
 * daily cron, or any check just after start-up) holds none.
 */
export class RunHistory {
  /** FIELDS numbers per run: startedAt, durationMs, outcome (OK, BLOCKED, or 1 + the reason's index in REASONS). */
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
