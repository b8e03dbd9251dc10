import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, freemem } from 'node:os';

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  memTotalGb: number;
  memAvailableGb: number;
  node: string;
  loadavg: number[];
  uptime: string;
}

/** What the figures were taken on; the machine is shared, so the load average goes with every figure. */
export function describeMachine(): Machine {
  let uptime = '';
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    uptime = `load average: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memTotalGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    memAvailableGb: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    uptime,
  };
}

export function machineLine(m: Machine): string {
  return `${m.date}  ${m.nproc} x ${m.cpu}, ${m.memTotalGb} GB (${m.memAvailableGb} GB free), node ${m.node}, ${m.uptime}`;
}
