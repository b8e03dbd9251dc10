import type { LoadedCheck } from '../checks/registry.js';
import type { HeapItem } from './due-heap.js';
import type { Job } from './run-pool.js';
import { Timing, type CronMatchers } from './slot.js';

/** One scheduled check; it stands in the heap itself (HeapItem) while it has a planned slot. */
export interface Entry extends HeapItem {
  check: LoadedCheck;
  timing: Timing;
  /** The next planned slot (epoch ms). */
  slot: number | undefined;
  busy: 'idle' | 'queued' | 'running';
  removed: boolean;
}

/** One slot of an entry as the pool runs it: an object with methods, not a literal of closures per run. */
export class SlotJob implements Job {
  constructor(
    private readonly entry: Entry,
    private readonly slot: number,
    private readonly runs: (entry: Entry, slot: number, signal: AbortSignal) => Promise<void>,
  ) {}

  get name(): string {
    return this.entry.check.spec.name;
  }

  run(signal: AbortSignal): Promise<void> {
    return this.runs(this.entry, this.slot, signal);
  }

  drop(): void {
    this.entry.busy = 'idle';
  }
}

export function createEntry(check: LoadedCheck, matchers: CronMatchers): Entry {
  return { check, timing: Timing.of(check.spec, matchers), slot: undefined, busy: 'idle', removed: false, due: 0, seq: 0, heapIndex: -1 };
}
