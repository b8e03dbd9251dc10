/**
 * The runner's ceiling on a result (trust rounds 2 and 3): whatever a target puts in a message
 * or an observation, a result is at most MAX_RESULT_BYTES of JSON, its text is cut with a note,
 * scrubbing cannot amplify it, and a secret cut in half at the edge is still scrubbed.
 */
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../src/results/secret-forms.js';
import type { Result } from '../src/results/result.js';
import { boundResult, boundText, LIMITS, MAX_RESULT_BYTES, scrubberFor } from '../src/results/result-bounds.js';

const none = scrubberFor([], REDACTED);

function result(message: string, observations: Record<string, unknown>): Result {
  return { name: 'c', type: 'http', ok: false, reason: 'error', message, startedAt: new Date(0).toISOString(), durationMs: 1, observations };
}

function size(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

describe('result bounds', () => {
  it('cuts a 20 MB message and 10 MB fields to a fixed ceiling, saying how much was left out', () => {
    const huge = 'v'.repeat(10_000_000);
    const bounded = boundResult(result(`appVersion ${huge} and chart ${huge}`, { appVersion: huge, chart: huge, images: Array.from({ length: 100_000 }, (_, i) => `registry.example/img:${i}`) }), none);
    expect(size(bounded)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(bounded.message.length).toBeLessThan(LIMITS.message + 40);
    expect(bounded.message).toMatch(/\.\.\. \(\d+ more characters\)$/);
    expect(String(bounded.observations.appVersion)).toMatch(/^v{1000}\.\.\. \(9999000 more characters\)$/);
    const images = bounded.observations.images as string[];
    expect(images).toHaveLength(LIMITS.items + 1);
    expect(images.at(-1)).toBe(`... (${100_000 - LIMITS.items} more items)`);
  });

  it('drops observations that stay over the ceiling after tightening, keeping name, ok, reason and message', () => {
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, Object.fromEntries(Array.from({ length: 100 }, (_, j) => [`j${j}`, 'x'.repeat(1000)]))]));
    const bounded = boundResult(result('broken', wide), none);
    expect(size(bounded)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(bounded).toMatchObject({ name: 'c', ok: false, reason: 'error', message: 'broken' });
  });

  it('scrubs a secret that straddles the cut, and scrubbing a one-character secret does not amplify', () => {
    const canary = 'canary-Zq81xT';
    const text = `${'a'.repeat(LIMITS.text - 5)}${canary}${'b'.repeat(5000)}`;
    const cut = boundText(text, LIMITS.text, scrubberFor([canary], REDACTED));
    expect(cut).not.toContain('canary-Z');
    expect(cut).not.toContain(canary.slice(0, 5));
    const amplified = boundText('x'.repeat(5_000_000), 2000, scrubberFor(['x'], REDACTED));
    expect(amplified.length).toBeLessThan(2100);
    expect(amplified.startsWith(REDACTED)).toBe(true);
  });

  it('never ends a cut inside a surrogate pair', () => {
    const cut = boundText(`${'a'.repeat(LIMITS.text - 1)}😀😀`, LIMITS.text, none);
    // The 1000th character is the first half of an emoji: the cut goes before it.
    expect(cut).toBe(`${'a'.repeat(LIMITS.text - 1)}... (3 more characters)`);
  });
});
