/**
 * Bytes a Node process allocated on its V8 heap, for "KB allocated per probe". V8 keeps no
 * running total, but every byte allocated is either freed by a GC or still in use: the sum, over
 * the GCs in a window, of what each freed (used heap before minus after, from v8.GCProfiler),
 * plus the growth of the used heap over the window, is what was allocated in it. Buffers'
 * backing stores outside the heap are not counted (nor in the Go figure's equivalent: blackbox's
 * go_memstats_alloc_bytes_total counts its whole heap).
 *
 * In-process: startAllocationMeter() (raw-client.ts). In another process: that process is
 * started with `node --import <this file compiled>` and DRIFTWATCH_ALLOC_REPORT=<file>; each
 * SIGUSR2 then writes the running totals of its threads there (readAllocatedBytes() below does
 * both sides and adds the threads up).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface AllocationMeter {
  /** Bytes allocated on the V8 heap since the meter started. */
  allocatedBytes(): number;
  /**
   * Bytes young-generation GCs moved to the old space since the meter started (what outlived
   * two of them): the growth of the old spaces over each scavenge.
   */
  promotedBytes(): number;
}

/** The spaces a scavenge promotes into. */
const OLD_SPACES = new Set(['old_space', 'large_object_space']);

export function startAllocationMeter(): AllocationMeter {
  let profiler = new GCProfiler();
  profiler.start();
  const startUsed = getHeapStatistics().used_heap_size;
  let freed = 0;
  let promoted = 0;
  const oldUsed = (spaces: { spaceName: string; spaceUsedSize: number }[]) => spaces.reduce((sum, space) => sum + (OLD_SPACES.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
  /** Takes in the GCs since the last call. */
  const sample = () => {
    // stop() hands back the GCs since start(); restarting keeps the list short on long runs.
    const { statistics } = profiler.stop();
    profiler = new GCProfiler();
    profiler.start();
    for (const gc of statistics) {
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      if (gc.gcType === 'Scavenge') promoted += Math.max(0, oldUsed(gc.afterGC.heapSpaceStatistics) - oldUsed(gc.beforeGC.heapSpaceStatistics));
    }
  };
  return {
    allocatedBytes() {
      sample();
      return freed + getHeapStatistics().used_heap_size - startUsed;
    },
    promotedBytes() {
      sample();
      return promoted;
    },
  };
}

const METER_CHANNEL = 'driftwatch-bench-alloc-meter';
const THREAD_SUFFIX = '.thread-';
const reportFile = process.env.DRIFTWATCH_ALLOC_REPORT;
if (reportFile !== undefined && reportFile !== '') meterThisThread(reportFile);

/**
 * Node preloads this file in the run threads too (file workers inherit --import), and they
 * allocate as much as the main thread: each thread keeps its own total. Signals reach only the
 * main thread, which passes each request on over a BroadcastChannel; a run thread writes its
 * total beside the main one, in FILE.thread-ID.
 */
function meterThisThread(file: string): void {
  const meter = startAllocationMeter();
  const channel = new BroadcastChannel(METER_CHANNEL);
  channel.unref();
  const write = (sequence: number) => {
    writeFileSync(isMainThread ? file : `${file}${THREAD_SUFFIX}${threadId}`, JSON.stringify({ sequence, allocatedBytes: meter.allocatedBytes(), promotedBytes: meter.promotedBytes() }));
  };
  if (!isMainThread) {
    channel.onmessage = (event: unknown) => {
      const data: unknown = typeof event === 'object' && event !== null && 'data' in event ? event.data : undefined;
      if (typeof data === 'number') write(data);
    };
    return;
  }
  let sequence = 0;
  process.on('SIGUSR2', () => {
    sequence++;
    channel.postMessage(sequence);
    write(sequence);
  });
}

/**
 * Asks the metered process `pid` for its running total (SIGUSR2) and waits, a bounded time, for
 * the answer in `file`. NaN when it does not come (a process started without the meter).
 */
export async function readAllocatedBytes(pid: number, file: string, timeoutMs = 2000): Promise<number> {
  const { main, threads } = await readAllocation(pid, file, timeoutMs);
  return main + threads;
}

/** What a metered process reports, in bytes: the main thread's, and the run threads' together. */
export interface Allocation {
  main: number;
  threads: number;
  promoted: { main: number; threads: number };
}

/** readAllocatedBytes's total in its parts, and the bytes promoted to the old space likewise. */
export async function readAllocation(pid: number, file: string, timeoutMs = 2000): Promise<Allocation> {
  const before = readReport(file)?.sequence ?? 0;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let main: Report | undefined;
  while (Date.now() < deadline) {
    main = readReport(file);
    if (main && main.sequence > before) break;
    await sleep(5);
  }
  if (main === undefined || main.sequence <= before) return { main: Number.NaN, threads: Number.NaN, promoted: { main: Number.NaN, threads: Number.NaN } };
  // The run threads' totals for the same request; a thread that has ended counts with its last one.
  const threads = readdirSync(dirname(file)).filter((name) => name.startsWith(`${basename(file)}${THREAD_SUFFIX}`)).map((name) => join(dirname(file), name));
  let total = 0;
  let promoted = 0;
  for (const thread of threads) {
    let report = readReport(thread);
    while (Date.now() < deadline && (report?.sequence ?? 0) < main.sequence) {
      await sleep(5);
      report = readReport(thread);
    }
    total += report?.allocatedBytes ?? 0;
    promoted += report?.promotedBytes ?? 0;
  }
  return { main: main.allocatedBytes, threads: total, promoted: { main: main.promotedBytes, threads: promoted } };
}

interface Report {
  sequence: number;
  allocatedBytes: number;
  promotedBytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readReport(file: string): Report | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('sequence' in parsed) || !('allocatedBytes' in parsed) || !('promotedBytes' in parsed)) return undefined;
    const { sequence, allocatedBytes, promotedBytes } = parsed;
    return typeof sequence === 'number' && typeof allocatedBytes === 'number' && typeof promotedBytes === 'number' ? { sequence, allocatedBytes, promotedBytes } : undefined;
  } catch {
    return undefined;
  }
}
