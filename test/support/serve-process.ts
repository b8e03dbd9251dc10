import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, startCli, type CliResult } from './cli.js';
import { freePort } from './ports.js';
import { waitFor } from './wait-for.js';

/** `driftwatch serve` as a process on a free loopback port, for tests of what a hostile target does to the daemon. */
export interface ServeProcess {
  child: ChildProcess;
  base: string;
  /** The process's resident set, from /proc. */
  rssBytes(): Promise<number>;
  /** GETs /metrics every intervalMs for durationMs and returns each answer's latency (ms); a failed GET throws. */
  metricsLatencies(durationMs: number, intervalMs?: number): Promise<number[]>;
  /** The check's latest result from /api/v1/checks/NAME (undefined before its first run). */
  lastResult(name: string): Promise<Record<string, unknown> | undefined>;
  /** SIGTERM, and what the process printed. */
  stop(): Promise<CliResult>;
}

export async function startServe(checksYaml: string, extra: string[] = []): Promise<ServeProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-serve-'));
  const file = join(dir, 'checks.yaml');
  await writeFile(file, checksYaml);
  const port = await freePort();
  const child = startCli(['serve', '--checks', file, '--listen', `127.0.0.1:${port}`, ...extra]);
  const done = collect(child, 120_000);
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`serve exited (code ${code})`));
    });
  });
  exited.catch(() => undefined);
  try {
    await Promise.race([waitFor(async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 'readyz', 30_000), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`serve did not get ready: ${(await done).stderr}`, { cause: err });
  }
  return {
    child,
    base,
    async rssBytes() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      return Number(kb) * 1024;
    },
    async metricsLatencies(durationMs, intervalMs = 100) {
      const latencies: number[] = [];
      const end = Date.now() + durationMs;
      while (Date.now() < end) {
        const t0 = performance.now();
        const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(30_000) });
        await response.text();
        if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
        latencies.push(performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
      return latencies;
    },
    async lastResult(name) {
      const response = await fetch(`${base}/api/v1/checks/${name}`);
      if (!response.ok) return undefined;
      const body = (await response.json()) as { last?: Record<string, unknown> };
      return body.last ?? undefined;
    },
    async stop() {
      child.kill('SIGTERM');
      const result = await done;
      await rm(dir, { recursive: true, force: true });
      return result;
    },
  };
}
