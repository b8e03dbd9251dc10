import { describe, expect, it } from 'vitest';
import { DueHeap, type HeapItem } from '../src/scheduler/due-heap.js';

interface Item extends HeapItem {
  name: string;
}

const item = (name: string): Item => ({ name, due: 0, seq: 0, heapIndex: -1 });

describe('the due heap', () => {
  it('moves an item that is set again instead of keeping a second copy, and lets items leave from anywhere', () => {
    const heap = new DueHeap<Item>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item);
    if (!a || !b || !c || !d) throw new Error('items');
    heap.set(a, 30);
    heap.set(b, 10);
    heap.set(c, 20);
    heap.set(d, 20);
    heap.set(b, 40);
    heap.delete(c);
    heap.delete(c);
    expect(heap.size).toBe(3);
    const order: string[] = [];
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) order.push(`${top.name}@${top.due}`);
    expect(order).toEqual(['d@20', 'a@30', 'b@40']);
    expect([a, b, c, d].map((x) => x.heapIndex)).toEqual([-1, -1, -1, -1]);
  });

  it('gives items in due order, ties first in first out, over random sets, moves and deletes', () => {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const heap = new DueHeap<Item>();
    const items = Array.from({ length: 200 }, (_, i) => item(`i${i}`));
    // The reference: each item's due and the order it was last set in.
    const reference = new Map<Item, { due: number; order: number }>();
    let order = 0;
    for (let step = 0; step < 5000; step++) {
      const it = items[Math.floor(next() * items.length)];
      if (!it) continue;
      if (next() < 0.2) {
        heap.delete(it);
        reference.delete(it);
      } else {
        const due = Math.floor(next() * 50);
        heap.set(it, due);
        reference.set(it, { due, order: order++ });
      }
    }
    const expected = [...reference].sort(([, x], [, y]) => x.due - y.due || x.order - y.order).map(([it]) => it.name);
    const got: string[] = [];
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) got.push(top.name);
    expect(got).toEqual(expected);
  });
});
