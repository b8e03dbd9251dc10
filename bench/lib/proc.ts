import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** What /proc says about one process: CPU time, resident memory, descriptors (Linux only). */
export interface ProcSample {
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** VmRSS, bytes. */
  rssBytes: number;
  /** VmHWM (peak RSS over the process's life), bytes. */
  peakRssBytes: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux x86-64

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name and state.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuSeconds: ticks / CLOCK_TICKS, rssBytes: statusKb(status, 'VmRSS') * 1024, peakRssBytes: statusKb(status, 'VmHWM') * 1024 };
}

function statusKb(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
}

/** Open file descriptors of a process. */
export function countDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The 1-minute load average, formatted for a table cell or a note. */
export function loadNow(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export const MB = 1024 * 1024;
