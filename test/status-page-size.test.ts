import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger } from './support/checks.js';

const CHECKS = 1000;
const RUNS = 20;
/**
 * Measured 2026-12-07: 2.32 MB (132 KB gzipped) with the pictures, 1.44 MB before them, for the
 * first page (500 rows) of 1,000 checks; the bound leaves ~10% room (README, status page).
 */
const MAX_PAGE_BYTES = 2_500_000;

// The status page for 1,000 checks, each with a full history of slow, flapping runs timed by
// phase (the largest sparkline there is): a page of 500 rows stays under a stated size.
describe('status page size with the pictures', () => {
  let dir: string;
  let daemon: Daemon;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-page-size-'));
    const file = join(dir, 'checks.yaml');
    const checks = Array.from({ length: CHECKS }, (_, i) => `  - { name: service-${String(i).padStart(4, '0')}-health, type: http, url: "http://127.0.0.1:9/health/${i}", labels: { team: team-${i % 7} } }`);
    await writeFile(file, `defaults: { schedule: "0 0 1 1 *" }\nchecks:\n${checks.join('\n')}\n`);
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    const start = Date.now() - RUNS * 30_000;
    for (let i = 0; i < CHECKS; i++) {
      for (let run = 0; run < RUNS; run++) {
        const ok = (i + run) % 3 !== 0;
        daemon.state.record({
          name: `service-${String(i).padStart(4, '0')}-health`,
          type: 'http',
          ok,
          ...(!ok && { reason: 'status' as const }),
          message: ok ? 'ok' : 'status 503, expected 2xx',
          startedAt: new Date(start + run * 30_000).toISOString(),
          durationMs: 100 + ((i * 7 + run * 13) % 400) + 0.123,
          observations: { status: ok ? 200 : 503, phases: { dns: 0, connect: 0.4, tls: 0, processing: 90 + run, transfer: 0.2 } },
        });
      }
    }
  });

  afterAll(async () => {
    await daemon.stop(1000);
    await rm(dir, { recursive: true, force: true });
  });

  it(`stays under ${MAX_PAGE_BYTES} bytes for ${CHECKS} checks (500 rows a page)`, async () => {
    const api = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    try {
      const res = await api.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(200);
      const bytes = Buffer.byteLength(res.body);
      const gzipped = gzipSync(res.body).length;
      process.stdout.write(`status page, ${CHECKS} checks x ${RUNS} runs: ${bytes} bytes, ${gzipped} gzipped\n`);
      expect(res.body.match(/<svg class="spark"/g)).toHaveLength(500);
      expect(res.body.match(/<dl class="uptime"/g)).toHaveLength(500);
      expect(bytes).toBeLessThan(MAX_PAGE_BYTES);
    } finally {
      await api.close();
    }
  });
});
