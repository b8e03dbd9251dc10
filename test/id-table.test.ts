import { describe, expect, it } from 'vitest';
import { IdTable } from '../src/runner/id-table.js';

describe('IdTable', () => {
  it('hands out ids unique among those held, reuses slots, and refuses an id it no longer holds', () => {
    const table = new IdTable<string>();
    const a = table.add('a');
    const b = table.add('b');
    expect(a).not.toBe(b);
    expect([table.get(a), table.get(b), table.size]).toEqual(['a', 'b', 2]);
    expect(table.take(a)).toBe('a');
    expect(table.take(a)).toBeUndefined();
    expect(table.get(a)).toBeUndefined();
    // The freed slot comes back under a new id: the old one stays refused.
    const c = table.add('c');
    expect(c).not.toBe(a);
    expect(c % 2 ** 24).toBe(a % 2 ** 24);
    expect(table.get(a)).toBeUndefined();
    expect(table.get(c)).toBe('c');
    expect([...table.values()].sort()).toEqual(['b', 'c']);
    expect(table.size).toBe(2);
  });

  it('keeps as many slots as values at once, however many went through', () => {
    const table = new IdTable<{ n: number }>();
    const seen = new Set<number>();
    const held: number[] = [];
    for (let n = 0; n < 10_000; n++) {
      const id = table.add({ n });
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      held.push(id);
      if (held.length > 5) expect(table.take(held.shift() ?? -1)).toBeDefined();
    }
    expect(table.size).toBe(5);
    expect(Math.max(...[...seen].map((id) => id % 2 ** 24))).toBe(5);
    table.clear();
    expect([table.size, [...table.values()].length]).toEqual([0, 0]);
    expect(table.get(held[0] ?? -1)).toBeUndefined();
  });
});
