/** Something due at an epoch-millisecond time. */
export interface Due<T> {
  due: number;
  value: T;
}

interface Slot<T> extends Due<T> {
  /** Insertion order: breaks ties so items due at the same moment leave first in, first out. */
  seq: number;
}

/**
 * A binary min-heap of due times. The scheduler keeps one timer armed for the earliest item
 * instead of one timer per check, so 10,000 checks cost one setTimeout and O(log n) per slot.
 */
export class DueHeap<T> {
  private readonly items: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(due: number, value: T): void {
    this.items.push({ due, value, seq: this.seq++ });
    this.siftUp(this.items.length - 1);
  }

  peek(): Due<T> | undefined {
    return this.items[0];
  }

  pop(): Due<T> | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.isBefore(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      let first = i;
      if (this.isBefore(left, first)) first = left;
      if (this.isBefore(left + 1, first)) first = left + 1;
      if (first === i) return;
      this.swap(i, first);
      i = first;
    }
  }

  /** Whether item i exists and leaves before item j. */
  private isBefore(i: number, j: number): boolean {
    const a = this.items[i];
    const b = this.items[j];
    if (a === undefined || b === undefined) return false;
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    if (a === undefined || b === undefined) return;
    this.items[i] = b;
    this.items[j] = a;
  }
}
