import { afterEach, describe, expect, it, vi } from 'vitest';
import { LinkedEnd } from '../src/net/linked-end.js';
import { RunDeadline } from '../src/runner/run-deadline.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('an end inside a caller\'s (a DNS query\'s time limit in its run)', () => {
  it('ends at its own limit with the reason it gives, telling each listener once, and leaves the caller alone', () => {
    vi.useFakeTimers();
    const run = new RunDeadline(5000);
    const query = new LinkedEnd(run, { ms: 100, expired: () => new Error('no answer within 100ms') });
    const heard: string[] = [];
    query.addEventListener('abort', () => heard.push('a'));
    query.addEventListener('abort', () => heard.push('b'));
    vi.advanceTimersByTime(99);
    expect(query.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect({ aborted: query.aborted, byCaller: query.endedByCaller, heard }).toEqual({ aborted: true, byCaller: false, heard: ['a', 'b'] });
    expect(query.reason).toEqual(new Error('no answer within 100ms'));
    expect(run.aborted).toBe(false);
    query.dispose();
    run.dispose();
  });

  it('ends with the caller\'s reason when the caller ends first, or had ended already', () => {
    vi.useFakeTimers();
    const run = new RunDeadline(5000);
    const query = new LinkedEnd(run, { ms: 1000, expired: () => new Error('limit') });
    run.cancel('shutdown');
    expect({ aborted: query.aborted, byCaller: query.endedByCaller }).toEqual({ aborted: true, byCaller: true });
    expect(query.reason).toBe(run.reason);
    // Its timer is gone with the end: the limit's reason never replaces the caller's.
    vi.advanceTimersByTime(2000);
    expect(query.reason).toBe(run.reason);
    const late = new LinkedEnd(run);
    expect(late.reason).toBe(run.reason);
    run.dispose();
  });

  it('once disposed, takes its listener off the caller and its timer away', () => {
    vi.useFakeTimers();
    const outer = new AbortController();
    const spy = vi.spyOn(outer.signal, 'removeEventListener');
    const query = new LinkedEnd(outer.signal, { ms: 100, expired: () => 'late' });
    let heard = 0;
    query.addEventListener('abort', () => heard++);
    query.dispose();
    expect(spy).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
    outer.abort(new Error('after'));
    expect({ aborted: query.aborted, heard }).toEqual({ aborted: false, heard: 0 });
  });

  it('races work that never settles: rejects with its own reason, or asError\'s for a caller\'s that is not an Error', async () => {
    vi.useFakeTimers();
    const never = new Promise<string>(() => undefined);
    const query = new LinkedEnd(new AbortController().signal, { ms: 100, expired: () => new Error('no answer within 100ms') });
    const raced = query.race(never);
    vi.advanceTimersByTime(100);
    await expect(raced).rejects.toThrow('no answer within 100ms');
    query.dispose();

    const outer = new AbortController();
    const cancelled = new LinkedEnd(outer.signal);
    const waiting = cancelled.race(never, () => new Error('query aborted'));
    outer.abort('gone');
    await expect(waiting).rejects.toThrow('query aborted');
    // Settled work wins over a later end.
    const done = new LinkedEnd(new AbortController().signal, { ms: 100, expired: () => new Error('late') });
    await expect(done.race(Promise.resolve('answer'))).resolves.toBe('answer');
    done.dispose();
  });
});
