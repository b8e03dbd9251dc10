import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from './support/cli.js';
import { freePort, listenLoopback } from './support/ports.js';
import { waitFor } from './support/wait-for.js';

const BIN = fileURLToPath(new URL('../bin/driftwatch.js', import.meta.url));
/** Preloaded into the daemon (started with --expose-gc): a full collection on SIGUSR2. */
const PRELOAD = `data:text/javascript,${encodeURIComponent("process.on('SIGUSR2', () => { globalThis.gc(); process.stderr.write('forced full collection\\n'); });")}`;
const LANES = 16;
const PROBES = 3000;
/** The most probes measured (bounded, like every load loop). */
const MAX_PROBES = 30_000;

/** The bytes each scavenge of the first isolate (the main thread) promoted, from --trace-gc-nvp lines. */
function mainThreadPromotions(nvp: string): number[] {
  let main: string | undefined;
  const promoted: number[] = [];
  for (const line of nvp.split('\n')) {
    const isolate = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]/.exec(line)?.[1];
    if (isolate === undefined) continue;
    main ??= isolate;
    if (isolate !== main || !line.includes(' gc=s ')) continue;
    promoted.push(Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0));
  }
  return promoted;
}

// What a run leaves behind on the daemon's thread must die young, also after a full collection
// has moved the daemon's own tables to the old space: a Map keyed by a per-run id then kept
// every run's objects past the young generation (runner/id-table.ts), 5 KB a probe, and full
// collections every few seconds under /probe load. Measured in bytes V8 reports, not in time.
describe('what a /probe run leaves on the daemon thread dies young', () => {
  let dir: string;
  let target: Server;
  let targetPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-promotion-'));
    target = createServer((_request, response) => response.end('ok\n'));
    targetPort = await listenLoopback(target);
  });
  afterAll(async () => {
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('promotes under 1 KB a probe after a forced full collection, on a run thread', { timeout: 120_000 }, async () => {
    const file = join(dir, 'checks.yaml');
    await writeFile(file, `checks:\n  - { name: small, type: http, url: "http://127.0.0.1:${targetPort}/", interval: 1h, timeout: 5s }\n`);
    const port = await freePort();
    const child = spawn(process.execPath, ['--expose-gc', '--trace-gc-nvp', '--import', PRELOAD, BIN, 'serve', '--checks', file, '--listen', `127.0.0.1:${port}`, '--run-threads', '1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child, 110_000);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const agent = new Agent({ keepAlive: true, maxSockets: LANES });
    const probe = () =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/probe?check=small&format=prometheus', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else reject(new Error(`/probe answered ${String(res.statusCode)}`));
          });
        });
        req.on('error', reject);
        req.end();
      });
    const load = async (count: number) => {
      let left = count;
      await Promise.all(
        Array.from({ length: LANES }, async () => {
          while (left-- > 0) await probe();
        }),
      );
    };
    try {
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 'readyz', 30_000);
      await load(PROBES / 2);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.kill('SIGUSR2');
      await waitFor(async () => (stderr.includes('forced full collection') ? true : undefined), 'the forced collection');
      const before = mainThreadPromotions(stdout).length;
      // Probes until the main thread has scavenged a few times: the less a probe allocates, the
      // more it takes (Node 24's young generation saw two scavenges in 3,000 probes at 17 KB each).
      let probes = 0;
      while (probes < MAX_PROBES && mainThreadPromotions(stdout).length - before < 4) {
        await load(PROBES);
        probes += PROBES;
      }
      const after = mainThreadPromotions(stdout).slice(before);
      expect(after.length, `scavenges on the main thread while probing (${probes} probes)`).toBeGreaterThan(3);
      const perProbe = after.reduce((sum, bytes) => sum + bytes, 0) / probes;
      expect(perProbe, `bytes promoted per probe (${after.length} scavenges)`).toBeLessThan(1024);
    } finally {
      agent.destroy();
      child.kill('SIGTERM');
      await done;
    }
  });
});
