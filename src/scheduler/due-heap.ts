/** What the heap orders: the item's own fields, so a check in the heap costs no wrapper object. */
export interface HeapItem {
  /** When it is due (epoch ms); set by the heap. */
  due: number;
  /** Order of (re)insertion: items due at the same moment leave first in, first out. */
  seq: number;
  /** Where it stands in the heap, -1 when it is not in it; kept by the heap. */
  heapIndex: number;
}

/**
 * A binary min-heap of due times whose items know their place, so a check that is re-planned or
 * removed moves or leaves in O(log n) instead of leaving a stale copy behind. The scheduler
 * keeps one timer armed for the earliest item instead of one timer per check, so 100,000
 * checks cost one setTimeout and O(log n) per slot.
 */
export class DueHeap<T extends HeapItem> {
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** Puts the item at `due`: adds it, or moves it when it is in already; either way after the items already due then. */
  set(item: T, due: number): void {
    item.due = due;
    item.seq = this.seq++;
    if (item.heapIndex < 0) {
      item.heapIndex = this.items.length;
      this.items.push(item);
    }
    this.siftUp(item.heapIndex);
    this.siftDown(item.heapIndex);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.delete(top);
    return top;
  }

  delete(item: T): void {
    const at = item.heapIndex;
    if (at < 0 || this.items[at] !== item) return;
    item.heapIndex = -1;
    const last = this.items.pop();
    if (last === undefined || last === item) return;
    this.place(last, at);
    this.siftUp(at);
    this.siftDown(last.heapIndex);
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private place(item: T, at: number): void {
    this.items[at] = item;
    item.heapIndex = at;
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
    this.place(b, i);
    this.place(a, j);
  }
}
