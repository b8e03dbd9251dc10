import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger } from './support/checks.js';
import { startTcpPeer } from './support/tcp-peer.js';

const TOKEN = 'pictures-token';
const CANARY_ENV = 'DRIFTWATCH_PICTURES_CANARY';
const CANARY = 'canary-pictures-3b1f';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RUNS = 8;
const SLOW_MS = 150;

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

// A daemon with a flapping, a slow and a failing check, each run RUNS times by the API; Chromium
// reads the pictures beside each check's strip, and a Prometheus that hangs or answers garbage
// leaves the page served with the in-memory figures.
describe('status page pictures: sparkline, uptime, chart, strip reasons, badges', { timeout: 90_000 }, () => {
  let dir: string;
  let target: Server;
  let tcp: Awaited<ReturnType<typeof startTcpPeer>>;
  let daemon: Daemon;
  let app: FastifyInstance;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  let flips = 0;

  beforeAll(async () => {
    process.env[CANARY_ENV] = CANARY;
    await mkdir(ARTIFACTS, { recursive: true });
    target = createServer((request, response) => {
      if (request.url === '/flap') {
        flips += 1;
        response.writeHead(flips % 2 === 0 ? 500 : 200).end('flap');
      } else setTimeout(() => response.writeHead(200).end('slow'), SLOW_MS);
    });
    const port = await listen(target);
    tcp = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-pictures-'));
    const file = join(dir, 'checks.yaml');
    await writeFile(
      file,
      `defaults:
  schedule: "0 0 1 1 *"
  timeout: 2s
checks:
  - name: flapping-api
    type: http
    url: "http://127.0.0.1:${port}/flap"
    headers: { Authorization: { env: ${CANARY_ENV} } }
  - name: slow-api
    type: http
    url: "http://127.0.0.1:${port}/slow"
  - name: dead-port
    type: tcp
    host: 127.0.0.1
    port: ${tcp.closedPort}
`,
    );
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, token: TOKEN, version: '0.0.0-test' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    daemon.start();
    for (let i = 0; i < RUNS; i++) {
      for (const name of ['flapping-api', 'slow-api', 'dead-port']) {
        const res = await fetch(`${base}/api/v1/checks/${name}/run`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    const profile = await mkdtemp(join(dir, 'chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(5000);
  });

  afterAll(async () => {
    await browser.close();
    await app.close();
    await daemon.stop(1000);
    await tcp.close();
    await new Promise((resolve) => target.close(resolve));
    await rm(dir, { recursive: true, force: true });
    Reflect.deleteProperty(process.env, CANARY_ENV);
  });

  const row = (name: string) => page.locator(`tr.row[data-check="${name}"]`);
  const uptime = async (scope: ReturnType<Page['locator']>) => {
    const cells = scope.locator('dl.uptime > div');
    const out: Record<string, { from: string | null; ratio: string | null; text: string }> = {};
    for (let i = 0; i < (await cells.count()); i++) {
      const cell = cells.nth(i);
      out[(await cell.getAttribute('data-window')) ?? '?'] = { from: await cell.getAttribute('data-from'), ratio: await cell.getAttribute('data-ratio'), text: await cell.locator('dd').innerText() };
    }
    return out;
  };

  it('draws a sparkline with its scale, uptime over 1 h / 24 h / 7 d, and each run\'s reason in accessible, focusable text', async () => {
    await page.goto(`${base}/`);
    // Sparkline: an SVG whose accessible name states the scale, and the scale written beside it.
    const slow = row('slow-api');
    const spark = slow.locator('svg.spark');
    expect(await spark.getAttribute('role')).toBe('img');
    expect(await spark.getAttribute('data-runs')).toBe(String(RUNS));
    const scaleMs = Number(await spark.getAttribute('data-scale-ms'));
    expect(scaleMs).toBeGreaterThanOrEqual(SLOW_MS);
    expect(await spark.getAttribute('aria-label')).toMatch(/^response time, last 8 runs: latest \d.*, scale 0 to \d+ ms; slowest phase processing, up to 1\d\d ms$/);
    expect(await slow.locator('.spark-scale').innerText()).toMatch(/^max \d+ ms$/);
    expect(await spark.locator('polyline.total').getAttribute('points')).toMatch(/^([\d.]+,[\d.]+ ){7}[\d.]+,[\d.]+$/);
    expect(await spark.locator('polyline.phase').count()).toBe(1);
    // Flapping: half the runs failed, red dots on the line; uptime 50% from memory in every window.
    expect((await row('flapping-api').locator('svg.spark path.fail').getAttribute('d'))?.match(/h0/g)).toHaveLength(RUNS / 2);
    const flapping = await uptime(row('flapping-api'));
    expect(Object.keys(flapping)).toEqual(['1h', '24h', '7d']);
    for (const figure of Object.values(flapping)) {
      expect(figure).toMatchObject({ from: 'memory', ratio: '0.5' });
      expect(figure.text).toMatch(/^50\.00%/);
    }
    expect(Object.values(await uptime(row('dead-port'))).map((f) => f.text.replace('*', ''))).toEqual(['0.00%', '0.00%', '0.00%']);
    expect(Object.values(await uptime(row('slow-api'))).map((f) => f.text.replace('*', ''))).toEqual(['100.00%', '100.00%', '100.00%']);
    const note = page.locator('p.uptime-note');
    expect(await note.getAttribute('data-from')).toBe('memory');
    expect(await note.innerText()).toMatch(/^Uptime from the runs this daemon holds in memory .*, since .* ago|just now/);

    // The strip: every run focusable, its reason its accessible name, shown on focus.
    const bars = row('dead-port').locator('ol.strip li');
    expect(await bars.count()).toBe(RUNS);
    const bar = bars.last();
    expect(await bar.getAttribute('tabindex')).toBe('0');
    expect(await bar.getAttribute('aria-label')).toMatch(/ · failed \(connect\): .*ECONNREFUSED/);
    await bar.focus();
    const tip = String(await page.evaluate("getComputedStyle(document.activeElement, '::after').content"));
    expect(tip).toContain('failed (connect)');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-pictures.png'), fullPage: true });
    expect(await page.content()).not.toContain(CANARY);
  });

  it('draws the larger response-time chart on the check page, scale and time axis labelled', async () => {
    await page.goto(`${base}/checks/slow-api`);
    const chart = page.locator('svg.chart');
    expect(await chart.getAttribute('data-runs')).toBe(String(RUNS));
    const labels = await chart.locator('.axis text').allTextContents();
    expect(labels).toHaveLength(3);
    expect(labels[2]).toBe('0');
    expect(labels[0]).toMatch(/^\d+ ms$/);
    expect(await page.locator('.chart-wrap .legend').innerText()).toMatch(/total\s+slowest phase \(processing at most 1\d\d ms\)\s+failed · 8 runs from \S+ to \S+/);
    expect(Object.keys(await uptime(page.locator('.pictures-panel')))).toEqual(['1h', '24h', '7d']);
    await page.screenshot({ path: join(ARTIFACTS, 'check-page-chart.png'), fullPage: true });
  });

  it('serves badges for health, uptime and duration, cached, without secrets, behind the token unless --public-badges', async () => {
    const badge = async (path: string, token?: string) => {
      const res = await fetch(`${base}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: await res.text() };
    };
    expect((await badge('/api/v1/checks/flapping-api/badge.svg')).status).toBe(401);
    const health = await badge('/api/v1/checks/dead-port/badge.svg?kind=health', TOKEN);
    expect(health).toMatchObject({ status: 200, type: 'image/svg+xml; charset=utf-8', cache: 'private, max-age=60' });
    expect(health.body).toContain('aria-label="dead-port: failing"');
    expect(health.body).toContain('fill="#c62828"');
    expect((await badge('/api/v1/checks/slow-api/badge.svg', TOKEN)).body).toContain('aria-label="slow-api: passing"');
    expect((await badge('/api/v1/checks/flapping-api/badge.svg?kind=uptime', TOKEN)).body).toContain('aria-label="flapping-api uptime 7d: 50.00%"');
    expect((await badge('/api/v1/checks/slow-api/badge.svg?kind=duration', TOKEN)).body).toMatch(/aria-label="slow-api time: 1\d\d ms"/);
    const flapping = await badge('/api/v1/checks/flapping-api/badge.svg?kind=duration', TOKEN);
    expect(flapping.body).not.toContain(CANARY);
    const unknown = await badge('/api/v1/checks/no-such-check/badge.svg', TOKEN);
    expect(unknown).toMatchObject({ status: 404, type: 'image/svg+xml; charset=utf-8', cache: 'no-store' });
    expect(unknown.body).toContain('no-such-check: check not found');
    expect((await badge('/api/v1/checks/slow-api/badge.svg?kind=colour', TOKEN)).status).toBe(400);

    // --public-badges: the same daemon served without the token for badges only.
    const open = buildApi({ daemon, log: memoryLogger().log, token: TOKEN, version: '0.0.0-test', publicBadges: true });
    const openBase = await open.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${openBase}/api/v1/checks/slow-api/badge.svg?kind=health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      await res.arrayBuffer();
      expect((await fetch(`${openBase}/api/v1/checks/slow-api/run`, { method: 'POST' })).status).toBe(401);
      // Chromium renders the badges as a README would show them.
      await page.goto(`${openBase}/healthz`);
      await page.setContent(`<body style="margin:8px">${['health', 'uptime', 'duration'].map((kind) => `<p><img alt="${kind}" src="${openBase}/api/v1/checks/flapping-api/badge.svg?kind=${kind}"></p>`).join('')}</body>`);
      await page.waitForFunction('[...document.images].every((img) => img.complete && img.naturalWidth > 0)');
      expect(await page.evaluate('[...document.images].map((img) => img.naturalHeight)')).toEqual([20, 20, 20]);
      await page.screenshot({ path: join(ARTIFACTS, 'badges.png') });
    } finally {
      await open.close();
    }
  });

  it('serves the page within the timeout with the in-memory figures when Prometheus hangs or answers garbage', async () => {
    const held: Socket[] = [];
    const hanging = createTcpServer((socket) => void held.push(socket));
    const hangPort = await listen(hanging);
    const garbage = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success","data":"not a vector"}'));
    const garbagePort = await listen(garbage);
    try {
      for (const [url, problem] of [
        [`http://127.0.0.1:${hangPort}`, 'Prometheus did not answer within 2 s'],
        [`http://127.0.0.1:${garbagePort}/`, 'Prometheus answered something that is not a query result'],
      ] as const) {
        const api = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test', prometheusUrl: url });
        try {
          const res = await api.inject({ method: 'GET', url: '/' });
          expect(res.statusCode).toBe(200);
          expect(res.body).toContain(problem);
          expect(res.body).toMatch(/<p class="uptime-note muted small" data-from="memory" data-since="[^"]+">/);
          expect(res.body).toMatch(/data-window="7d" data-from="memory" data-ratio="0.5"/);
        } finally {
          await api.close();
        }
      }
      expect(held.length).toBeGreaterThan(0);
    } finally {
      held.forEach((socket) => socket.destroy());
      await new Promise((resolve) => hanging.close(resolve));
      await new Promise((resolve) => garbage.close(resolve));
    }
  });
});
