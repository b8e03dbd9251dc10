import type { Result, Step } from './result.js';

/**
 * The fixed ceiling on what one run may say, whatever a target returns. Results are kept in each
 * check's history, rendered on the status page, logged and served by the API: a target that
 * answers with a 10 MB chart version or a 7 MB rollout condition would otherwise be copied into
 * all of them, run after run (a helm release with 10 MB fields took a check page to 472 MB).
 *
 * Text is cut before it is scrubbed of secrets and cut again after: scrubbing a whole 5 MB
 * message for a one-character password turned it into 42 MB, while cutting first could leave
 * half a secret at the cut, which the second, slightly longer window still sees whole.
 */

/** The longest serialised result (JSON) a run may produce, observations and steps included. */
export const MAX_RESULT_BYTES = 64 * 1024;

export interface Limits {
  /** Characters of the result's message. */
  message: number;
  /** Characters of any other string, in observations or steps. */
  text: number;
  /** Items of an array, keys of an object. */
  items: number;
  /** Nesting of observations. */
  depth: number;
}

export const LIMITS: Limits = { message: 2000, text: 1000, items: 100, depth: 8 };
/** What a result that is still over MAX_RESULT_BYTES is cut to before its observations are dropped. */
export const TIGHT_LIMITS: Limits = { message: 2000, text: 200, items: 20, depth: 6 };

/** Replaces every form of a secret inside text with the placeholder; `longest` is the longest form's length. */
export interface Scrubber {
  (text: string): string;
  readonly longest: number;
}

/** A scrubber for these forms of secret values (longest first, so a whole value goes before a part of it). */
export function scrubberFor(forms: Iterable<string>, placeholder: string): Scrubber {
  const sorted = [...new Set(forms)].filter((f) => f !== '').sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return Object.assign((text: string) => text, { longest: 0 });
  // One pass over the text for all forms: an alternation of literals, longest first, so a whole
  // value goes before a part of it (hundreds of forms once registry tokens accumulate).
  const pattern = new RegExp(sorted.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const scrub = (text: string): string => (text === '' ? text : text.replace(pattern, placeholder));
  return Object.assign(scrub, { longest: sorted[0]?.length ?? 0 });
}

/** Text cut to `max` characters, saying how much was left out; scrubbed inside the window that is kept. */
export function boundText(text: string, max: number, scrub: Scrubber): string {
  if (text.length <= max) return cutScrubbed(scrub(text), max, 0);
  // Scrub a window longer than the cut by the longest secret form, so a secret that straddles
  // the cut is still recognised whole and replaced, never left half visible.
  return cutScrubbed(scrub(text.slice(0, max + scrub.longest)), max, text.length - max);
}

/** Scrubbing may lengthen text (a one-character secret becomes [secret]): cut it again. */
function cutScrubbed(text: string, max: number, leftOut: number): string {
  if (text.length <= max && leftOut === 0) return text;
  const more = Math.max(leftOut, text.length - max);
  return `${cutAt(text, max)}... (${more} more characters)`;
}

/** A copy of a JSON-like value with every string, array and object bounded and scrubbed. */
export function boundValue(value: unknown, limits: Limits, scrub: Scrubber, depth = 0): unknown {
  if (typeof value === 'string') return boundText(value, limits.text, scrub);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= limits.depth) return '(nested too deep: left out)';
  if (Array.isArray(value)) {
    const kept = value.slice(0, limits.items).map((item) => boundValue(item, limits, scrub, depth + 1));
    if (value.length > limits.items) kept.push(`... (${value.length - limits.items} more items)`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  let count = 0;
  for (const [key, item] of Object.entries(value)) {
    if (count++ >= limits.items) {
      out['...'] = `${Object.keys(value).length - limits.items} more keys left out`;
      break;
    }
    out[boundText(key, 200, scrub)] = boundValue(item, limits, scrub, depth + 1);
  }
  return out;
}

/** Never ends inside a surrogate pair, so the cut text stays valid UTF-16 (and JSON and UTF-8). */
function cutAt(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * The result as it may leave the runner: message, observations and steps bounded and scrubbed;
 * at most MAX_RESULT_BYTES of JSON, tightening the limits and then dropping the observations.
 */
export function boundResult(raw: Result, scrub: Scrubber): Result {
  const at = (limits: Limits, keepObservations: boolean): Result => {
    const { steps, ...rest } = raw;
    const bounded: Result = {
      ...rest,
      message: boundText(raw.message, limits.message, scrub),
      observations: keepObservations ? (boundValue(raw.observations, limits, scrub) as Record<string, unknown>) : { truncated: `observations over ${MAX_RESULT_BYTES} bytes left out` },
    };
    if (steps && keepObservations) bounded.steps = boundValue(steps, limits, scrub) as Step[];
    return bounded;
  };
  const first = at(LIMITS, true);
  if (fits(first)) return first;
  const tight = at(TIGHT_LIMITS, true);
  return fits(tight) ? tight : at(TIGHT_LIMITS, false);
}

function fits(result: Result): boolean {
  return Buffer.byteLength(JSON.stringify(result)) <= MAX_RESULT_BYTES;
}
