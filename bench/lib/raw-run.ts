import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Build } from './build.js';
import { fixed } from './stats.js';

/** What raw-client.ts prints: the bare client's figures over its measured time. */
export interface RawResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  cpuSeconds: number;
  allocatedBytes: number;
  peakRssBytes: number;
}

/** Runs raw-client.ts (its own process) with `args` for about `seconds`; its one JSON line. */
export async function runRawClient(build: Build, args: string[], seconds: number): Promise<RawResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [build.entry('bench/lib/raw-client.ts'), ...args], { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout) as RawResult;
}

/**
 * The anchor of scheduled http runs: the bare node:http client making the same request (a fresh
 * connection each) at the same rate, on the scheduler's grid (TICK_MS), for the same window. At
 * low rates a request costs more CPU because nothing amortises the wake-ups of an idle process;
 * this says how much of a scheduled run's cost any Node client pays on the machine.
 */
export async function runPacedAnchor(build: Build, url: string, rate: number, seconds: number): Promise<RawResult> {
  const warmup = 5;
  return runRawClient(build, ['--mode', 'http', '--target', url, '--rate', String(rate), '--warmup', String(warmup), '--seconds', String(seconds)], seconds + warmup);
}

/** The anchor's line under the scale table: its CPU and allocation per request beside a run's. */
export function anchorLine(raw: RawResult, run: { cpuUsPerRun: number; allocKbPerRun: number }): string {
  const cpuUs = (raw.cpuSeconds * 1e6) / Math.max(1, raw.requests);
  const allocKb = raw.allocatedBytes / Math.max(1, raw.requests) / 1024;
  return `bare node:http client at the same rate (${fixed(raw.rps, 0)} requests/s, ${raw.failed} failed): ${fixed(cpuUs, 0)} us CPU and ${fixed(allocKb, 1)} KB per request; driftwatch ${fixed(run.cpuUsPerRun, 0)} us (${fixed(run.cpuUsPerRun / cpuUs, 2)}x) and ${fixed(run.allocKbPerRun, 1)} KB (${fixed(run.allocKbPerRun / allocKb, 2)}x) per run`;
}
