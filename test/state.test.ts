import { describe, expect, it } from 'vitest';
import type { Result } from '../src/results/result.js';
import { RunHistory } from '../src/state/state-store.js';

function result(i: number, extra: Partial<Result> = {}): Result {
  return { name: 'c', type: 'ingress', ok: true, message: 'ok', startedAt: new Date(Date.UTC(2026, 10, 27, 12, 0, i)).toISOString(), durationMs: 10 + i / 8, observations: {}, ...extra };
}

describe('run history', () => {
  it('keeps the last runs newest first in brief, across the ring wrapping round', () => {
    const history = new RunHistory(3);
    expect(history.list()).toEqual([]);
    history.push(result(1));
    history.push(result(2, { ok: false, reason: 'status', message: 'status 404, expected 401', observations: { verdict: 'stale-host' } }));
    history.push(result(3, { ok: false, reason: 'timeout', message: 'timeout after 5s' }));
    history.push(result(4, { observations: { verdict: 'healthy' } }));
    expect(history.length).toBe(3);
    expect(history.list()).toEqual([
      { ok: true, message: 'ok', startedAt: '2026-11-27T12:00:04.000Z', durationMs: 10.5, verdict: 'healthy' },
      { ok: false, reason: 'timeout', message: 'timeout after 5s', startedAt: '2026-11-27T12:00:03.000Z', durationMs: 10.375 },
      { ok: false, reason: 'status', message: 'status 404, expected 401', startedAt: '2026-11-27T12:00:02.000Z', durationMs: 10.25, verdict: 'stale-host' },
    ]);
  });
});
