import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

const PRETENURING_OFF = '--no-allocation-site-pretenuring';
const GROWTH = '--heap-growing-percent';
const CAPPED_GROWTH = `${GROWTH}=50`;
const V8_GROWTH = `${GROWTH}=0`;

/**
 * V8 settings for the long-running daemon (`serve`), chosen by measurement (bench/README.md,
 * "Heap tuning"):
 *
 * - No allocation-site pretenuring. V8 marks an allocation site "tenured" when most of what it
 *   made survived a young collection, and from then on allocates there straight into the old
 *   space. A daemon's busy moments (the first runs of a large check set, a long scrape) make the
 *   sites of a run's short-lived objects look long-lived; once tenured, every run's garbage went
 *   to the old space, forcing a major collection every ~10 s at 100,000 checks whose marking of
 *   the whole state held the event loop 100-250 ms.
 * - While the live heap is large, the old space grows by half of what the last major collection
 *   left, at most. On a machine with memory to spare V8 lets it grow up to four times that when
 *   collections are cheap: at 100,000 checks the daemon went past 1 GB. A small heap (a major
 *   collection leaves under SMALL_HEAP_BYTES) gets V8's own growth back: capped there,
 *   collections came so often under /probe load that its p99 latency rose by half.
 *
 * Process-wide, so the run threads (worker threads) get them too. A flag the operator gave
 * node on its command line (either form) is left as given.
 */
export const SERVICE_V8_FLAGS: readonly string[] = [PRETENURING_OFF, GROWTH];

/** Live heap (after a major GC) under which the growth is V8's own, and from which an uncapped heap is capped again. */
const SMALL_HEAP_BYTES = 96 * 1024 * 1024;
export const LARGE_HEAP_BYTES = 128 * 1024 * 1024;
/** Every flag string tuneHeapForService hands V8. */
export const FLAGS_SET: readonly string[] = [PRETENURING_OFF, CAPPED_GROWTH, V8_GROWTH];

/** The flags of SERVICE_V8_FLAGS that `execArgv` (node's own options) does not already set. */
export function serviceFlagsToSet(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return SERVICE_V8_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** The growth setting for a live heap of `bytes`, given the one in force (hysteresis between the two bounds). */
export function growthFor(bytes: number, capped: boolean): boolean {
  return capped ? bytes >= SMALL_HEAP_BYTES : bytes >= LARGE_HEAP_BYTES;
}

/** What tuneHeapForService leaves running: the growth cap's watch, from the end of the load. */
export interface HeapTuning {
  /**
   * From now on each major GC decides the growth cap by the live heap it leaves. Called once the
   * checks are loaded: a load starts from a small heap, and lifting the cap at its first major
   * GC would let V8 set the next limit fourfold just as the state arrives.
   */
  watch(): void;
}

/** Applies SERVICE_V8_FLAGS to this process, before the daemon loads its checks: pretenuring off, the growth capped. */
export function tuneHeapForService(execArgv: readonly string[] = process.execArgv): HeapTuning {
  const flags = serviceFlagsToSet(execArgv);
  if (flags.includes(PRETENURING_OFF)) setFlagsFromString(PRETENURING_OFF);
  if (!flags.includes(GROWTH)) return { watch: () => undefined };
  // Capped from the start: a limit V8 sets after a major GC holds until the next one, so a cap
  // that came only after the load's first major GC would let the old space grow fourfold first.
  let capped = true;
  setFlagsFromString(CAPPED_GROWTH);
  const observer = new PerformanceObserver((list) => {
    if (!list.getEntries().some(isMajorGc)) return;
    const next = growthFor(getHeapStatistics().used_heap_size, capped);
    if (next === capped) return;
    capped = next;
    setFlagsFromString(capped ? CAPPED_GROWTH : V8_GROWTH);
  });
  return {
    watch() {
      observer.observe({ entryTypes: ['gc'] });
    },
  };
}

function isMajorGc(entry: PerformanceEntry): boolean {
  const detail: unknown = Reflect.get(entry, 'detail');
  return typeof detail === 'object' && detail !== null && 'kind' in detail && detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

/** `--no-allocation-site-pretenuring`, `--allocation_site_pretenuring=1` -> `allocation-site-pretenuring`. */
function flagName(arg: string): string {
  const name = arg.replace(/^--?/, '').split('=')[0] ?? '';
  return name.replace(/_/g, '-').replace(/^no-/, '');
}
