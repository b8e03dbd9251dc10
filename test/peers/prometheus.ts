/**
 * A real Prometheus (Debian package, 2.42) on a free loopback port with the configuration a test
 * gives it, in a temporary TSDB. Ready in ~0.15 s; the first scrape comes 5-6 s later.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { until } from '../support/until.js';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusPeer {
  url: string;
  /** An instant query's result vector. */
  query(expr: string): Promise<PromSample[]>;
  /** Everything Prometheus wrote to stderr. */
  log(): string;
  close(): Promise<void>;
}

export async function startPrometheus(configYaml: string): Promise<PrometheusPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('/usr/bin/prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const close = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until('Prometheus ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { data: { result: PromSample[] } };
      return body.data.result;
    },
    log: () => stderr,
    close,
  };
}
