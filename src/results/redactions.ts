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
  /** A scrubber of every recorded form, built once per change. */
  scrubber(): Scrubber;
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
  return {
    add(value, forms) {
      if (value === '') return;
      const known = values.get(value);
      // Most recent last: re-adding moves a value to the end, so the oldest goes first.
      values.delete(value);
      values.set(value, known ?? [...forms()]);
      if (known === undefined) cached = scrubber = undefined;
      if (values.size > MAX_VALUES) {
        const oldest = values.keys().next().value;
        if (oldest !== undefined) values.delete(oldest);
      }
    },
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
