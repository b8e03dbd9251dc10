/**
 * A real blackbox_exporter (Debian package prometheus-blackbox-exporter, 0.23 here) on a free
 * loopback port with the modules a test gives it, to compare driftwatch's /probe with.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';

export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';

export interface BlackboxPeer {
  address: string;
  /** GET /probe?module=&target= as Prometheus would send it; the text and the status. */
  probe(module: string, target: string, headers?: Record<string, string>): Promise<{ status: number; text: string }>;
  log(): string;
  close(): Promise<void>;
}

export async function startBlackbox(configYaml: string): Promise<BlackboxPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-blackbox-'));
  const config = join(dir, 'blackbox.yml');
  await writeFile(config, configYaml);
  const port = await freePort();
  const child = spawn(BLACKBOX, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const healthy = await fetch(`http://${address}/-/healthy`).then((r) => r.ok, () => false);
    if (healthy) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`blackbox_exporter did not start:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address,
    async probe(module, target, headers = {}) {
      const res = await fetch(`http://${address}/probe?module=${encodeURIComponent(module)}&target=${encodeURIComponent(target)}`, { headers });
      return { status: res.status, text: await res.text() };
    },
    log: () => stderr,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
