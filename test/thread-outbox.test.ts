import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FromThread } from '../src/runner/run-thread-protocol.js';
import { ThreadOutbox } from '../src/runner/thread-outbox.js';

const log = (id: number): FromThread => ({ t: 'log', id, level: 30, msg: `line ${id}`, fields: {} });
const done = (id: number, extra: Record<string, unknown> = {}): FromThread => ({ t: 'done', id, result: { name: 'c', type: 'http', ok: true, message: 'ok', startedAt: '', durationMs: 1, observations: extra }, samples: { shape: 0, values: [] }, added: 0, evicted: false });

/** The messages as the daemon's thread reads them: a batch's in turn. */
const read = (sent: FromThread[]) => sent.flatMap((m) => (m.t === 'batch' ? m.messages : [m])).map((m) => ('id' in m ? `${m.t} ${m.id ?? ''}` : m.t));

afterEach(() => {
  vi.useRealTimers();
});

describe('a run thread outbox', () => {
  it('holds what is not urgent for the delay, then sends it as one batch, in order', () => {
    vi.useFakeTimers();
    const sent: FromThread[] = [];
    const outbox = new ThreadOutbox<FromThread>((m) => sent.push(structuredClone(m)), 5, () => undefined);
    outbox.post(done(1), false);
    outbox.post(log(2), false);
    outbox.post(done(3), false);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(4);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent.map((m) => m.t)).toEqual(['batch']);
    expect(read(sent)).toEqual(['done 1', 'log 2', 'done 3']);
    // Alone, a message goes as itself.
    outbox.post(done(4), false);
    vi.advanceTimersByTime(5);
    expect(sent.at(-1)?.t).toBe('done');
  });

  it("waiting for the turn: what one turn posts goes as one batch when the turn ends, and no timer is used", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    const sent: FromThread[] = [];
    const outbox = new ThreadOutbox<FromThread>((m) => sent.push(m), 'turn', () => undefined);
    outbox.post(log(1));
    outbox.post(done(2));
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    await Promise.resolve();
    expect(read(sent)).toEqual(['log 1', 'done 2']);
    expect(sent).toHaveLength(1);
  });

  it('sends an urgent message at once, after whatever waited, and no timer is left for them', () => {
    vi.useFakeTimers();
    const sent: FromThread[] = [];
    const outbox = new ThreadOutbox<FromThread>((m) => sent.push(m), 5, () => undefined);
    outbox.post(log(1), false);
    outbox.post(done(2), true);
    expect(read(sent)).toEqual(['log 1', 'done 2']);
    vi.advanceTimersByTime(10);
    expect(sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('replaces a message that cannot be sent and still sends the others, in order', () => {
    const sent: FromThread[] = [];
    const replaced: string[] = [];
    const outbox = new ThreadOutbox<FromThread>(
      (m) => sent.push(structuredClone(m)),
      5,
      (m, err) => {
        replaced.push(`${m.t} ${err instanceof Error ? err.name : ''}`);
        return m.t === 'done' ? { t: 'failed', id: m.id, message: 'DataCloneError' } : undefined;
      },
    );
    outbox.post(log(1), false);
    outbox.post(done(2, { later: () => 1 }), false);
    outbox.post(done(3), true);
    expect(read(sent)).toEqual(['log 1', 'failed 2', 'done 3']);
    expect(replaced).toEqual(['done DataCloneError']);
    // Alone too.
    outbox.post(done(4, { later: () => 1 }), true);
    expect(read(sent).at(-1)).toBe('failed 4');
  });
});
