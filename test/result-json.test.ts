/**
 * A run's observations become plain JSON data in the same walk that bounds and scrubs them
 * (issue 29: the runner used to copy them through JSON.parse(JSON.stringify()) first). Whatever a
 * check puts in them, the result must be exactly what that copy, bounded, gave.
 */
import { describe, expect, it } from 'vitest';
import type { Result } from '../src/results/result.js';
import { boundResult, boundValue, LIMITS, scrubberFor, TIGHT_LIMITS, type Limits } from '../src/results/result-bounds.js';
import { REDACTED } from '../src/results/secret-forms.js';

const scrub = scrubberFor(['s3cret'], REDACTED);

class Reading {
  readonly kind = 'reading';
  private hidden = 1;
  get shown(): number {
    return this.hidden + 1;
  }
  method(): number {
    return this.hidden;
  }
}

function nested(depth: number): Record<string, unknown> {
  return depth === 0 ? { leaf: 's3cret leaf' } : { down: nested(depth - 1), at: depth };
}

const awkward: Record<string, unknown> = {
  url: 'http://127.0.0.1/s3cret',
  missing: undefined,
  fn: () => 1,
  sym: Symbol('x'),
  when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
  notANumber: Number.NaN,
  infinite: Number.POSITIVE_INFINITY,
  negativeZero: -0,
  boxed: [Object(1), Object('two'), Object(false)],
  list: [1, undefined, () => 2, Symbol('y'), null, 'x'],
  sparse: [1, , 3],
  reading: new Reading(),
  map: new Map([['a', 1]]),
  custom: { toJSON: (key: string) => `custom at ${key}` },
  vanishing: { toJSON: () => undefined },
  deep: nested(12),
  '12': 'integer-like key',
  [Symbol('hidden')]: 'symbol key',
  // More keys than an object may keep, some of them invisible to JSON.
  wide: Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`k${i}`, i % 3 === 0 ? undefined : `v${i}`])),
  wideAtTheEdge: Object.fromEntries(Array.from({ length: 103 }, (_, i) => [`k${i}`, i >= 100 ? undefined : i])),
  long: Array.from({ length: 150 }, (_, i) => ({ i, gone: undefined })),
  text: `${'x'.repeat(1500)} s3cret`,
};

/** The old way: a JSON copy, then the bounds. */
function reference(observations: object, limits: Limits): unknown {
  return boundValue(JSON.parse(JSON.stringify(observations)), limits, scrub);
}

function raw(observations: object | undefined): Omit<Result, 'observations'> & { observations: object | undefined } {
  return { name: 'c', type: 'http', ok: true, message: 'ok', startedAt: new Date(0).toISOString(), durationMs: 1, observations };
}

describe('observations as plain data, in one walk', () => {
  it('gives what a JSON copy gave, bounded and scrubbed, for every kind of value a check may leave in them', () => {
    const result = boundResult(raw(awkward), scrub);
    expect(result.observations).toStrictEqual(reference(awkward, LIMITS));
    expect(JSON.stringify(result.observations)).toBe(JSON.stringify(reference(awkward, LIMITS)));
    expect(Object.is(result.observations.negativeZero, 0)).toBe(true);
    expect(JSON.stringify(result.observations)).not.toContain('s3cret');
  });

  it('gives the same under the tight limits, and {} for no observations', () => {
    const plain = JSON.parse(JSON.stringify(awkward)) as object;
    // Big enough to need the tight limits: the same copy either way.
    const big = { ...awkward, bulk: Array.from({ length: 100 }, (_, i) => ({ i, text: 'y'.repeat(900) })) };
    const result = boundResult(raw(big), scrub);
    expect(result.observations).toStrictEqual(reference(big, TIGHT_LIMITS));
    expect(boundResult(raw(plain), scrub).observations).toStrictEqual(reference(awkward, LIMITS));
    expect(boundResult(raw(undefined), scrub).observations).toStrictEqual({});
  });
});

describe('observations kept without a copy', () => {
  const plain = { url: 'http://127.0.0.1/', status: 200, phases: { dns: 0, connect: 1.5 }, list: [1, 'two', null, true, { nested: [] }], none: null };

  it('keeps plain observations within the limits as they are: no copy', () => {
    const result = boundResult(raw(plain), scrub);
    expect(result.observations).toBe(plain);
    expect(JSON.stringify(result)).toBe(JSON.stringify({ ...raw(reference(plain, LIMITS) as object), observations: reference(plain, LIMITS) }));
  });

  it('copies as before whenever one value is not already what the copy gives', () => {
    // Each awkward value alone in otherwise plain observations, and the kinds a fast path could miss.
    const odd: Record<string, unknown> = {
      ...awkward,
      secretKey: { 's3cret-key': 1 },
      hasToJSON: { toJSON: 1 },
      nullProto: Object.assign(Object.create(null) as object, { a: 1 }),
      longKey: { ['k'.repeat(201)]: 1 },
      justDeep: nested(8),
      manyItems: Array.from({ length: 101 }, (_, i) => i),
    };
    for (const [key, value] of Object.entries(odd)) {
      // An integer-like key is plain JSON already.
      if (key === '12') continue;
      const observations = { ...plain, [key]: value };
      const result = boundResult(raw(observations), scrub);
      expect(result.observations, key).not.toBe(observations);
      expect(result.observations, key).toStrictEqual(reference(observations, LIMITS));
      expect(JSON.stringify(result.observations), key).toBe(JSON.stringify(reference(observations, LIMITS)));
    }
    // A secret in the message is scrubbed, and the result still not copied for it.
    expect(boundResult({ ...raw(plain), message: 'bad s3cret' }, scrub).message).not.toContain('s3cret');
  });
});
