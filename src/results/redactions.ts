import { scrubberFor, type Scrubber } from './result-bounds.js';
import { REDACTED } from './secret-forms.js';

/**
 * Every credential value this daemon (or `driftwatch run`) has revealed or received so far, in
 * the forms outputs are scrubbed of, so that a result is scrubbed of the credentials of every
 * check, not only its own: a registry that keeps the Basic header one check sent, and echoes it
 * into the answer another (anonymous) check reads, would otherwise have the second check quote
 * the first one's password. Run-time values (registry tokens, which change every run) are kept
 * most recent first up to a bound; a check's own secrets are added again on every run, so they
 * stay.
 */
export interface Redactions {
  /** Records a value and the forms it is scrubbed in (see secret-forms.ts). */
  add(value: string, forms: () => Iterable<string>): void;
  /** Every recorded form. */
  forms(): readonly string[];
  /** The recorded values themselves (to hand to a run thread as it starts). */
  values(): string[];
  /** A scrubber of every recorded form, built once per change. */
  scrubber(): Scrubber;
  /**
   * Distinct values added so far (evicted ones included), and whether any was evicted: two sets
   * where one holds every value of the other and neither evicted are equal when their counts are
   * (runner/run-threads.ts compares a thread's set with the daemon's this way).
   */
  readonly added: number;
  readonly evicted: boolean;
  /** Called with every value added for the first time (one listener: the run threads' sync). */
  onNew(listener: (value: string) => void): void;
}

/**
 * Distinct values kept: a daemon's secrets are tens; registry tokens (one per run of a bearer
 * oci-image check, valid for minutes) beyond this were issued long ago.
 */
const MAX_VALUES = 256;

export function createRedactions(): Redactions {
  const values = new Map<string, readonly string[]>();
  let cached: readonly string[] | undefined;
  let scrubber: Scrubber | undefined;
  let added = 0;
  let evicted = false;
  let listener: ((value: string) => void) | undefined;
  return {
    add(value, forms) {
      if (value === '') return;
      const known = values.get(value);
      // Most recent last: re-adding moves a value to the end, so the oldest goes first.
      values.delete(value);
      values.set(value, known ?? [...forms()]);
      if (values.size > MAX_VALUES) {
        const oldest = values.keys().next().value;
        if (oldest !== undefined) values.delete(oldest);
        evicted = true;
      }
      if (known !== undefined) return;
      cached = scrubber = undefined;
      added += 1;
      listener?.(value);
    },
    get added() {
      return added;
    },
    get evicted() {
      return evicted;
    },
    onNew(next) {
      listener = next;
    },
    values: () => [...values.keys()],
    forms() {
      cached ??= [...new Set([...values.values()].flat())];
      return cached;
    },
    scrubber() {
      scrubber ??= scrubberFor(this.forms(), REDACTED);
      return scrubber;
    },
  };
}
