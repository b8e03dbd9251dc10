import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { startPrometheus, type PrometheusPeer } from './peers/prometheus.js';
import { memoryLogger } from './support/checks.js';
import { runCli } from './support/cli.js';
import { startServe } from './support/serve-process.js';
import { until } from './support/until.js';

const EXPR = (check: string) => `avg by (check) (avg_over_time(driftwatch_check_success{check="${check}"}[7d]))`;

// A real Prometheus (Debian package) scrapes a daemon whose check flaps; the status page, given
// --prometheus-url, shows the 7 d uptime Prometheus answers for the same query at the same instant.
describe('uptime on the status page from a real Prometheus', { timeout: 120_000 }, () => {
  let dir: string;
  let target: Server;
  let daemon: Daemon;
  let scraped: FastifyInstance;
  let prometheus: PrometheusPeer;
  let flips = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-uptime-'));
    // Two answers in three fail: an uptime neither 0 nor 1, different at every scrape.
    target = createServer((_request, response) => {
      flips += 1;
      response.writeHead(flips % 3 === 0 ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const address = target.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const checks = join(dir, 'checks.yaml');
    await writeFile(checks, `checks:\n  - name: flapping-api\n    type: http\n    interval: 1s\n    timeout: 900ms\n    url: "http://127.0.0.1:${address.port}/"\n`);
    daemon = createDaemon({ checkPaths: [checks], log: memoryLogger().log });
    await daemon.load();
    daemon.start();
    scraped = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    const daemonAddress = await scraped.listen({ host: '127.0.0.1', port: 0 });
    prometheus = await startPrometheus(`global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: driftwatch\n    static_configs: [{ targets: ["${new URL(daemonAddress).host}"] }]\n`);
  });

  afterAll(async () => {
    await prometheus.close();
    await scraped.close();
    await daemon.stop(1000);
    await new Promise((resolve) => target.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const queryAt = async (expr: string, seconds: number): Promise<string | undefined> => {
    const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${seconds}`);
    const body: unknown = await res.json();
    const value = JSON.stringify(body).match(/"value":\[[\d.]+,"([^"]+)"\]/)?.[1];
    return value;
  };

  it('shows the 7 d uptime Prometheus answers for avg_over_time(driftwatch_check_success[7d])', async () => {
    // Enough scrapes that the figure is strictly between 0 and 1.
    await until('a few scrapes of a flapping check', async () => {
      const count = Number((await prometheus.query('count_over_time(driftwatch_check_success{check="flapping-api"}[7d])'))[0]?.value[1] ?? 0);
      const ratio = Number((await prometheus.query(EXPR('flapping-api')))[0]?.value[1] ?? 0);
      return count >= 6 && ratio > 0 && ratio < 1 ? true : undefined;
    });
    const api = buildApi({ daemon, log: memoryLogger().log, version: 'test', prometheusUrl: prometheus.url });
    try {
      for (const path of ['/', '/checks/flapping-api']) {
        const page = (await api.inject({ method: 'GET', url: path })).body;
        const at = /<p class="uptime-note muted small" data-from="prometheus" data-at="([^"]+)">/.exec(page)?.[1];
        expect(at, path).toBeDefined();
        const cell = /<div data-window="7d" data-from="prometheus" data-ratio="([^"]+)"><dt>7 d<\/dt><dd>([^<]+)<\/dd>/.exec(page);
        expect(cell, path).not.toBeNull();
        const answered = await queryAt(EXPR('flapping-api'), Date.parse(at ?? '') / 1000);
        expect(answered).toBeDefined();
        expect(Number(cell?.[1])).toBe(Number(answered));
        expect(cell?.[2]).toBe(`${(Number(answered) * 100).toFixed(2)}%`);
        // The 1 h and 24 h figures come from the same query.
        expect(page).toMatch(/data-window="1h" data-from="prometheus" data-ratio="0\.\d+"/);
      }
      const badge = await api.inject({ method: 'GET', url: '/api/v1/checks/flapping-api/badge.svg?kind=uptime' });
      expect(badge.body).toMatch(/aria-label="flapping-api uptime 7d: \d+\.\d\d%"/);
    } finally {
      await api.close();
    }
    expect(prometheus.log()).not.toMatch(/level=error/);
  });

  it('driftwatch serve --prometheus-url --public-badges: the page reads Prometheus, badges need no token, a bad URL is refused', async () => {
    const bad = await runCli(['serve', '--checks', 'examples/first-checks', '--prometheus-url', 'ftp://127.0.0.1/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--prometheus-url must be an http(s) URL without credentials');
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'serve-token\n');
    // The same check name as the daemon Prometheus scrapes, so Prometheus has its series.
    const served = await startServe(`checks:\n  - { name: flapping-api, type: tcp, host: 127.0.0.1, port: ${new URL(prometheus.url).port}, schedule: "0 0 1 1 *" }\n`, [
      '--prometheus-url',
      prometheus.url,
      '--public-badges',
      '--api-token-file',
      tokenFile,
    ]);
    try {
      const page = await (await fetch(`${served.base}/`)).text();
      expect(page).toMatch(/data-from="prometheus" data-at="/);
      expect(page).toMatch(/data-window="7d" data-from="prometheus" data-ratio="0\.\d+"/);
      const badge = await fetch(`${served.base}/api/v1/checks/flapping-api/badge.svg?kind=uptime`);
      expect(badge.status).toBe(200);
      expect(await badge.text()).toMatch(/uptime 7d: \d+\.\d\d%/);
      expect((await fetch(`${served.base}/api/v1/checks/flapping-api/run`, { method: 'POST' })).status).toBe(401);
    } finally {
      await served.stop();
    }
  });
});
