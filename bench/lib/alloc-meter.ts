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
 * SIGUSR2 then writes the running total there (readAllocatedBytes() below does both sides).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface AllocationMeter {
  /** Bytes allocated on the V8 heap since the meter started. */
  allocatedBytes(): number;
}

export function startAllocationMeter(): AllocationMeter {
  let profiler = new GCProfiler();
  profiler.start();
  const startUsed = getHeapStatistics().used_heap_size;
  let freed = 0;
  return {
    allocatedBytes() {
      // stop() hands back the GCs since start(); restarting keeps the list short on long runs.
      const { statistics } = profiler.stop();
      profiler = new GCProfiler();
      profiler.start();
      for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      return freed + getHeapStatistics().used_heap_size - startUsed;
    },
  };
}

const reportFile = process.env.DRIFTWATCH_ALLOC_REPORT;
if (reportFile !== undefined && reportFile !== '') {
  const meter = startAllocationMeter();
  let sequence = 0;
  process.on('SIGUSR2', () => {
    sequence++;
    writeFileSync(reportFile, JSON.stringify({ sequence, allocatedBytes: meter.allocatedBytes() }));
  });
}

/**
 * Asks the metered process `pid` for its running total (SIGUSR2) and waits, a bounded time, for
 * the answer in `file`. NaN when it does not come (a process started without the meter).
 */
export async function readAllocatedBytes(pid: number, file: string, timeoutMs = 2000): Promise<number> {
  const before = readReport(file)?.sequence ?? 0;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const report = readReport(file);
    if (report && report.sequence > before) return report.allocatedBytes;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Number.NaN;
}

function readReport(file: string): { sequence: number; allocatedBytes: number } | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('sequence' in parsed) || !('allocatedBytes' in parsed)) return undefined;
    const { sequence, allocatedBytes } = parsed;
    return typeof sequence === 'number' && typeof allocatedBytes === 'number' ? { sequence, allocatedBytes } : undefined;
  } catch {
    return undefined;
  }
}
