/**
 * Values under ids the table hands out, in slots that are reused: what a Map keyed by an id that
 * grows with every run would be, without its garbage. A Map that gains and loses a key per run
 * rehashes into a new table every few hundred runs, and V8 leaves each old table pointing to the
 * new one (for iterators). Once a full collection has moved the Map's table to the old space,
 * the next table is reachable from the old space, and so is everything its entries point to until
 * the next full collection: every run's objects then outlived the young generation. Measured on
 * the /probe path, 1.4 MB promoted per scavenge against 5 KB with this table, and the run rate
 * fell by a fifth (bench/README.md, "Promotion").
 */
export class IdTable<T> {
  private readonly slots: (T | undefined)[] = [];
  /** The id each slot holds now (its index plus a generation above SLOT_BITS). */
  private readonly ids: number[] = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Stores `value` and returns its id: unique among the ids the table holds and those it held recently. */
  add(value: T): number {
    const index = this.free.pop() ?? this.slots.length;
    const generation = ((this.ids[index] ?? index) - index) / SLOT_COUNT + 1;
    const id = (generation % GENERATIONS) * SLOT_COUNT + index;
    this.slots[index] = value;
    this.ids[index] = id;
    this.count++;
    return id;
  }

  get(id: number): T | undefined {
    const index = id % SLOT_COUNT;
    return this.ids[index] === id ? this.slots[index] : undefined;
  }

  /** Removes the id's value and returns it (undefined when the table does not hold the id). */
  take(id: number): T | undefined {
    const index = id % SLOT_COUNT;
    if (this.ids[index] !== id) return undefined;
    const value = this.slots[index];
    if (value === undefined) return undefined;
    this.slots[index] = undefined;
    this.free.push(index);
    this.count--;
    return value;
  }

  /** The values held, in slot order. */
  *values(): IterableIterator<T> {
    for (const value of this.slots) if (value !== undefined) yield value;
  }

  clear(): void {
    for (let index = 0; index < this.slots.length; index++) {
      if (this.slots[index] === undefined) continue;
      this.slots[index] = undefined;
      this.free.push(index);
    }
    this.count = 0;
  }
}

/** Slots a table can have (far more than runs at once) and generations an id cycles through; together within 2^53. */
const SLOT_BITS = 24;
const SLOT_COUNT = 2 ** SLOT_BITS;
const GENERATIONS = 2 ** 28;
