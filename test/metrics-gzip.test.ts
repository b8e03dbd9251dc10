import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedDaemon } from '../src/api/served-daemon.js';
import { buildApi } from '../src/api/server.js';
import { startPrometheus } from './peers/prometheus.js';
import { memoryLogger } from './support/checks.js';
import { startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { startTcpPeer } from './support/tcp-peer.js';
import { until } from './support/until.js';
import { waitFor } from './support/wait-for.js';

const CHECKS = 300;

/** prom-client's Node metrics name three gauges *_total; promtool lints them (TESTING.md). */
const KNOWN_LINT = /^nodejs_active_[a-z]+_total non-counter metrics should not have "_total" suffix$/;

/** `promtool check metrics` on stdin: its exit code (3, lint, counts as 0 when all lint is known) and the lines it reports other than the known lint. */
function promtoolProblems(text: string): Promise<{ code: number | null; problems: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const problems = output.split('\n').filter((line) => line !== '' && !KNOWN_LINT.test(line));
      resolve({ code: code === 3 && problems.length === 0 ? 0 : code, problems });
    });
    child.stdin.end(text);
  });
}

/**
 * The text without the process's own families (process_*, nodejs_*): their series come and go
 * between two scrapes (a timer active or not, a kind of GC run for the first time), and their
 * values move. Every per-check series and driftwatch's own daemon-wide ones keep their values,
 * as nothing runs between the scrapes: the gzip path must not change them, byte for byte.
 */
function withoutMovingValues(text: string): string {
  return text.replace(/^(?:# (?:HELP|TYPE) )?(?:process|nodejs)_.*\n/gm, '');
}

async function scrape(base: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; wire: Buffer }> {
  const res = await request(`${base}/metrics`, { headers });
  expect(res.statusCode).toBe(200);
  return { headers: res.headers, wire: Buffer.from(await res.body.arrayBuffer()) };
}

describe('GET /metrics with Accept-Encoding: gzip', { timeout: 60_000 }, () => {
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let api: DaemonApi;
  let base: string;

  beforeAll(async () => {
    peer = await startTcpPeer();
    const checks = Array.from({ length: CHECKS }, (_, i) => `  - { name: port-${String(i).padStart(3, '0')}, type: tcp, host: 127.0.0.1, port: ${i % 2 === 0 ? peer.port : peer.closedPort}, labels: { service: svc-${i % 7} } }`);
    api = await startDaemonApi(`defaults:\n  interval: 1h\n  timeout: 2s\nchecks:\n${checks.join('\n')}\n`);
    // A few runs, so the text has passing and failing checks and failure reasons.
    for (const name of ['port-000', 'port-001', 'port-002', 'port-003']) expect((await api.app.inject({ method: 'POST', url: `/api/v1/checks/${name}/run` })).statusCode).toBe(200);
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await api.close();
    await peer.close();
  });

  it('answers gzip that decompresses to the same valid text, several times smaller on the wire', async () => {
    const plain = await scrape(base, {});
    const zipped = await scrape(base, { 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(String(zipped.headers.vary)).toMatch(/accept-encoding/i);
    expect(zipped.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');

    const text = gunzipSync(zipped.wire).toString('utf8');
    expect(await promtoolProblems(text)).toEqual({ code: 0, problems: [] });
    expect(text).toMatch(/^driftwatch_check_success\{check="port-001",type="tcp",service="svc-1"\} 0$/m);
    expect(text.match(/^driftwatch_check_runs_total\{.*result="success"\}/gm)).toHaveLength(CHECKS);
    expect(withoutMovingValues(text)).toBe(withoutMovingValues(plain.wire.toString('utf8')));
    // 300 checks are ~300 kB of text; label text repeated line after line compresses ~10x.
    expect(zipped.wire.length).toBeLessThan(plain.wire.length / 5);
  });

  it('answers the plain text, uncompressed, to a client that does not ask for gzip', async () => {
    for (const acceptEncoding of [undefined, 'identity', 'gzip;q=0', 'deflate, br', '*']) {
      const plain = await scrape(base, acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding });
      expect(plain.headers['content-encoding'], String(acceptEncoding)).toBeUndefined();
      expect(plain.wire.subarray(0, 7).toString(), String(acceptEncoding)).toBe('# HELP ');
      expect(await promtoolProblems(plain.wire.toString('utf8'))).toEqual({ code: 0, problems: [] });
    }
    for (const acceptEncoding of ['gzip', 'GZIP', 'br;q=1.0, gzip;q=0.8, *;q=0.1', 'x-gzip', 'deflate, gzip']) {
      const zipped = await scrape(base, { 'accept-encoding': acceptEncoding });
      expect(zipped.headers['content-encoding'], acceptEncoding).toBe('gzip');
      expect(gunzipSync(zipped.wire).subarray(0, 7).toString(), acceptEncoding).toBe('# HELP ');
    }
  });
});

/**
 * A reader that leaves after the first bytes: the render behind it must stop and be released
 * (its generator returned), not stay parked in the middle of the text for good. The pieces come
 * from a stand-in streamMetrics that says when it was pulled and when it finished.
 */
describe('a scrape that disconnects mid-stream', { timeout: 60_000 }, () => {
  const PIECES = 400;
  let api: DaemonApi;

  beforeAll(async () => {
    api = await startDaemonApi('checks:\n  - { name: one, type: tcp, host: 127.0.0.1, port: 9, interval: 1h }\n');
  });

  afterAll(async () => {
    await api.close();
  });

  for (const acceptEncoding of ['gzip', undefined]) {
    it(`releases the render (${acceptEncoding ?? 'no Accept-Encoding'})`, async () => {
      const pulls = { count: 0, finished: false };
      async function* pieces(): AsyncGenerator<string> {
        try {
          for (let i = 0; i < PIECES; i++) {
            pulls.count += 1;
            // Hex does not compress to nothing, so gzip emits bytes early and the reader sees them.
            yield `# piece ${i} ${randomBytes(8192).toString('hex')}\n`;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          pulls.finished = true;
        }
      }
      const { daemon } = api;
      const served: ServedDaemon = {
        state: daemon.state,
        scheduler: daemon.scheduler,
        get lastReload() {
          return daemon.lastReload;
        },
        reload: () => daemon.reload(),
        runNow: (name, options) => daemon.runNow(name, options),
        streamMetrics: pieces,
        isReady: () => daemon.isReady(),
      };
      const app: FastifyInstance = buildApi({ daemon: served, log: memoryLogger().log, version: 'test' });
      try {
        const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
        const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
        const encoding = await new Promise<string | undefined>((resolve, reject) => {
          const req = get({ host: address.hostname, port: address.port, path: '/metrics', headers }, (res) => {
            res.once('data', () => {
              resolve(res.headers['content-encoding']);
              req.destroy();
            });
          });
          req.on('error', () => undefined);
          req.setTimeout(10_000, () => {
            reject(new Error('no bytes within 10 s'));
          });
        });
        expect(encoding).toBe(acceptEncoding);
        await waitFor(async () => (pulls.finished ? true : undefined), 'the render to be released', 10_000);
        expect(pulls.count).toBeLessThan(PIECES);
      } finally {
        await app.close();
      }
    });
  }
});

/** The client that matters: Prometheus 2.42 sends Accept-Encoding: gzip and must read the answer. */
describe('a real Prometheus scraping /metrics', { timeout: 90_000 }, () => {
  it('asks for gzip, gets gzip, and stores every check', async () => {
    const api = await startDaemonApi(`checks:\n${Array.from({ length: 50 }, (_, i) => `  - { name: c-${i}, type: tcp, host: 127.0.0.1, port: 9, interval: 1h }`).join('\n')}\n`);
    const seen: { acceptEncoding: string | undefined; contentEncoding: unknown }[] = [];
    const app = buildApi({ daemon: api.daemon, log: memoryLogger().log, version: 'test' });
    app.addHook('onResponse', async (request, reply) => {
      if (request.url === '/metrics') seen.push({ acceptEncoding: request.headers['accept-encoding'], contentEncoding: reply.getHeader('content-encoding') });
    });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const prometheus = await startPrometheus(`global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: driftwatch\n    static_configs: [{ targets: ["${new URL(address).host}"] }]\n`);
    try {
      const stored = await until('Prometheus to store the checks', async () => {
        const [sample] = await prometheus.query('count(driftwatch_check_runs_total{job="driftwatch",result="success"})');
        return sample?.value[1] === '50' ? sample : undefined;
      });
      expect(stored.value[1]).toBe('50');
      expect((await prometheus.query('up{job="driftwatch"}'))[0]?.value[1]).toBe('1');
      expect(seen.length).toBeGreaterThan(0);
      expect(seen[0]?.acceptEncoding).toMatch(/\bgzip\b/);
      expect(seen.every((s) => s.contentEncoding === 'gzip')).toBe(true);
    } finally {
      await prometheus.close();
      await app.close();
      await api.close();
    }
  });
});
