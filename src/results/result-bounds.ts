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

/** A result as a run ends: its observations still as the check gave them (any object, or none). */
export type RawResult = Omit<Result, 'observations'> & { observations: object | undefined };

/**
 * The result as it may leave the runner: observations made plain JSON data (what
 * JSON.parse(JSON.stringify()) would give), message, observations and steps bounded and
 * scrubbed; at most MAX_RESULT_BYTES of JSON, tightening the limits and then dropping the
 * observations.
 */
export function boundResult(raw: RawResult, scrub: Scrubber): Result {
  const whole = asIs(raw, scrub);
  if (whole !== undefined) return whole;
  const at = (limits: Limits, keepObservations: boolean): Result => {
    const { steps, ...rest } = raw;
    const bounded: Result = {
      ...rest,
      message: boundText(raw.message, limits.message, scrub),
      observations: keepObservations ? boundObservations(raw.observations, limits, scrub) : { truncated: `observations over ${MAX_RESULT_BYTES} bytes left out` },
    };
    if (steps && keepObservations) bounded.steps = boundValue(steps, limits, scrub) as Step[];
    return bounded;
  };
  const first = at(LIMITS, true);
  if (fits(first)) return first;
  const tight = at(TIGHT_LIMITS, true);
  return fits(tight) ? tight : at(TIGHT_LIMITS, false);
}

/**
 * The usual result without a copy: no steps, and observations that are plain JSON data already
 * (plain objects and arrays, finite numbers, nothing JSON would leave out or change), within
 * LIMITS, with nothing to scrub, in a result that fits. The copy cost an http run about 1.5 KB
 * of garbage (issue 29). Anything else is copied below, as before.
 */
function asIs(raw: RawResult, scrub: Scrubber): Result | undefined {
  if ('steps' in raw) return undefined;
  const observations = raw.observations ?? {};
  if (!isPlainRecord(observations)) return undefined;
  const result: Result = { ...raw, message: boundText(raw.message, LIMITS.message, scrub), observations };
  let left = MAX_RESULT_BYTES - 2;
  for (const key in result) left = key === 'observations' ? left : jsonBytesLeft(Reflect.get(result, key), left - 4 - 6 * key.length);
  return plainBytesLeft(observations, LIMITS, scrub, 0, left - 4 - 6 * 'observations'.length) >= 0 ? result : undefined;
}

function isPlainRecord(value: object): value is Record<string, unknown> {
  return Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * `budget` less an upper bound of the value's JSON size, as jsonBytesLeft, or negative when the
 * value is not already what boundJson would give back: a string over the limit or with a
 * secret in it, a number JSON writes otherwise (NaN, -0), undefined, a function, an object that
 * is not a plain object or array (toJSON, a class, a Date), too many items or too deep.
 */
function plainBytesLeft(value: unknown, limits: Limits, scrub: Scrubber, depth: number, budget: number): number {
  switch (typeof value) {
    case 'string':
      return value.length <= limits.text && scrub(value) === value ? budget - 2 - 6 * value.length : -1;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? budget - 24 : -1;
    case 'boolean':
      return budget - 5;
    case 'object':
      break;
    default:
      return -1;
  }
  if (value === null) return budget - 4;
  if (depth >= limits.depth) return -1;
  let left = budget - 2;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    if (Object.getPrototypeOf(items) !== Array.prototype || items.length > limits.items) return -1;
    for (let i = 0; i < items.length && left >= 0; i++) left = plainBytesLeft(items[i], limits, scrub, depth + 1, left - 1);
    return left;
  }
  if (!isPlainRecord(value)) return -1;
  let count = 0;
  for (const key in value) {
    if (++count > limits.items || key === 'toJSON' || key.length > 200 || scrub(key) !== key) return -1;
    left = plainBytesLeft(value[key], limits, scrub, depth + 1, left - 4 - 6 * key.length);
    if (left < 0) return left;
  }
  return left;
}

/** Most results are a few KB: an upper bound of their JSON size spares writing the text to measure it. */
function fits(result: Result): boolean {
  return jsonBytesLeft(result, MAX_RESULT_BYTES) >= 0 || Buffer.byteLength(JSON.stringify(result)) <= MAX_RESULT_BYTES;
}

/**
 * `budget` less an upper bound of the UTF-8 size of the value's JSON text (negative: maybe over;
 * stops counting there). A UTF-16 unit takes at most 6 bytes (a \u escape), a number 24.
 * Anything a bounded result should not hold (toJSON, bigint) answers -1: measure it for real.
 */
function jsonBytesLeft(value: unknown, budget: number): number {
  if (typeof value === 'string') return budget - 2 - 6 * value.length;
  if (typeof value === 'number') return budget - 24;
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'function' || typeof value === 'symbol') return budget - 5;
  if (typeof value !== 'object' || 'toJSON' in value) return -1;
  let left = budget - 2;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    for (const item of items) {
      left = jsonBytesLeft(item, left - 1);
      if (left < 0) return left;
    }
    return left;
  }
  for (const key of Object.keys(value)) {
    left = jsonBytesLeft(Reflect.get(value, key), left - 4 - 6 * key.length);
    if (left < 0) return left;
  }
  return left;
}

/** Left out of an object by JSON (undefined, a function, a symbol); null in an array. */
const OMITTED = Symbol('omitted');

/**
 * The observations as JSON.parse(JSON.stringify()) would copy them (toJSON called, undefined
 * and functions left out, NaN null), bounded and scrubbed as boundValue would that copy, in one
 * walk without the text in between: the round trip cost a run about 10 us (issue 29).
 */
function boundObservations(observations: object | undefined, limits: Limits, scrub: Scrubber): Record<string, unknown> {
  if (observations === undefined) return {};
  return boundJson(observations, '', limits, scrub, 0) as Record<string, unknown>;
}

function boundJson(value: unknown, key: string | number, limits: Limits, scrub: Scrubber, depth: number): unknown {
  const plain = jsonValue(value, key);
  if (typeof plain === 'string') return boundText(plain, limits.text, scrub);
  if (typeof plain !== 'object' || plain === null) return plain;
  if (depth >= limits.depth) return '(nested too deep: left out)';
  if (Array.isArray(plain)) {
    const items: unknown[] = plain;
    const kept: unknown[] = [];
    for (let i = 0; i < items.length && i < limits.items; i++) {
      const item = boundJson(items[i], i, limits, scrub, depth + 1);
      kept.push(item === OMITTED ? null : item);
    }
    if (items.length > limits.items) kept.push(`... (${items.length - limits.items} more items)`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(plain);
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    const name = keys[i] ?? '';
    const item: unknown = Reflect.get(plain, name);
    if (count >= limits.items) {
      // As many more as JSON would have written.
      const more = keys.slice(i).filter((k) => jsonValue(Reflect.get(plain, k), k) !== OMITTED).length;
      if (more > 0) out['...'] = `${count + more - limits.items} more keys left out`;
      break;
    }
    const bounded = boundJson(item, name, limits, scrub, depth + 1);
    if (bounded === OMITTED) continue;
    count++;
    out[boundText(name, 200, scrub)] = bounded;
  }
  return out;
}

/** What JSON.stringify writes for a value: toJSON applied, boxed primitives unboxed, non-finite numbers null, -0 as 0. */
function jsonValue(value: unknown, key: string | number): unknown {
  let v = value;
  if (typeof v === 'object' && v !== null && 'toJSON' in v && typeof v.toJSON === 'function') {
    const json: unknown = Reflect.apply(v.toJSON, v, [String(key)]);
    v = json;
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v + 0 : null;
    case 'bigint':
      // What JSON.stringify throws too.
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      if (v instanceof Number) return jsonValue(Number(v), key);
      if (v instanceof String) return String(v);
      if (v instanceof Boolean) return v.valueOf();
      return v;
    default:
      return OMITTED;
  }
}
