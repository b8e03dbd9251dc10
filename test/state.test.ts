import { describe, expect, it } from 'vitest';
import type { Result } from '../src/results/result.js';
import type { LoadedCheck } from '../src/checks/registry.js';
import { createStateStore, RunHistory } from '../src/state/state-store.js';

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

describe('state store', () => {
  const check = (name: string, key = 'k1') => ({ spec: { name, type: 'ingress' }, key, file: 'f.yaml', line: 1, index: 0 }) as unknown as LoadedCheck;

  it('gives back the latest result as recorded, a copy on each read, and its state without reading it', () => {
    const store = createStateStore<LoadedCheck>();
    store.set([check('c')]);
    const entry = store.get('c');
    expect(entry?.last).toBeUndefined();
    expect(entry?.lastState).toBe('pending');
    const failing = result(1, { ok: false, reason: 'status', message: 'status 404, expected 401', observations: { verdict: 'stale-host', phases: { connect: 1.25 }, addresses: ['127.0.0.2'] } });
    expect(store.record(failing)).toBe(true);
    expect(entry?.last).toEqual(failing);
    expect(JSON.stringify(entry?.last)).toBe(JSON.stringify(failing));
    expect(entry?.last).not.toBe(entry?.last);
    // A caller changing what it recorded, or what it read, changes nothing kept.
    failing.message = 'changed';
    const read = entry?.last;
    if (read) read.ok = true;
    expect(entry?.last?.message).toBe('status 404, expected 401');
    expect(entry?.lastState).toBe('failing');
    expect(store.record(result(2, { ok: false, message: 'blocked: db failed', blocked: { by: ['db'], roots: ['db'] } }))).toBe(true);
    expect(entry?.lastState).toBe('blocked');
    expect(store.record(result(3))).toBe(true);
    expect(store.record(result(4))).toBe(false);
    expect(entry?.lastState).toBe('ok');
    expect(entry?.streak).toBe(2);
    expect(entry?.changedAt).toBe(result(3).startedAt);
  });

  it('keeps the latest result, state and streak when a reload changes the spec', () => {
    const store = createStateStore<LoadedCheck>();
    store.set([check('c')]);
    store.record(result(1, { ok: false, reason: 'dns', message: 'no such host' }));
    store.set([check('c', 'k2')]);
    const entry = store.get('c');
    expect(entry?.check.key).toBe('k2');
    expect(entry?.lastState).toBe('failing');
    expect(entry?.last?.message).toBe('no such host');
    expect(entry?.streak).toBe(1);
    expect(entry?.history.length).toBe(1);
  });
});
