import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { CHECK_TYPES } from '../src/checks/registry.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger, parseChecks } from './support/checks.js';
import { startTcpPeer } from './support/tcp-peer.js';

const TOKEN = 'status-page-token';
const CANARY_ENV = 'DRIFTWATCH_STATUS_PAGE_CANARY';
const CANARY = `canary-${randomUUID()}`;
const HOSTILE_LABEL = '<img src=x onerror=alert(1)>';
const HOSTILE_DESCRIPTION = '<script>alert("description")</script> & co';
const HOSTILE_MESSAGE = 'server answered <script>alert(2)</script>';
const HOSTILE_VERDICT = '<b>stale-host</b>';
const YEARLY = '0 0 1 1 *';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A check whose spec holds a secret reference, in the first registered type that takes one. */
function secretCheck(closedPort: number): { name: string; yaml: string } | undefined {
  const candidates = [
    {
      type: 'http',
      name: 'hub-token',
      yaml: `  - name: hub-token\n    type: http\n    url: "http://127.0.0.1:${closedPort}/api/v2/hubs"\n    headers: { Authorization: { env: ${CANARY_ENV} } }\n    expect: { status: [401] }\n`,
    },
    {
      type: 'postgres',
      name: 'hub-db',
      yaml: `  - name: hub-db\n    type: postgres\n    host: 127.0.0.1\n    port: ${closedPort}\n    database: app\n    user: app\n    password: { env: ${CANARY_ENV} }\n    sslmode: disable\n    connectTimeout: 2s\n`,
    },
  ];
  return candidates.find((c) => {
    if (!(CHECK_TYPES as readonly string[]).includes(c.type)) return false;
    try {
      parseChecks(`checks:\n${c.yaml}`);
      return true;
    } catch {
      return false;
    }
  });
}

/** What a person reads in each row: name, state and diagnosis (not relative times, which tick). */
async function visibleRows(page: Page): Promise<string[][]> {
  const rows = page.locator('table.checks tbody tr.row');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    out.push([await row.locator('.name').innerText(), (await row.locator('.c-state .pill').innerText()).toLowerCase(), await row.locator('.c-diag').innerText()]);
  }
  return out;
}

describe('status page', () => {
  let dir: string;
  let file: string;
  let checksYaml: string;
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let daemon: Daemon;
  let app: FastifyInstance;
  let base: string;
  let secret: { name: string; yaml: string } | undefined;
  let browser: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];
  const profiles: string[] = [];

  const launch = async (options: { javaScriptEnabled: boolean }): Promise<BrowserContext> => {
    const profile = await mkdtemp(join(tmpdir(), 'driftwatch-chromium-'));
    profiles.push(profile);
    return chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 }, ...options });
  };
  const get = async (path: string) => {
    const res = await request(`${base}${path}`);
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };
  const run = async (name: string) => {
    const res = await request(`${base}/api/v1/checks/${name}/run`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode, name).toBe(200);
    await res.body.dump();
  };

  beforeAll(async () => {
    process.env[CANARY_ENV] = CANARY;
    await mkdir(ARTIFACTS, { recursive: true });
    peer = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-status-page-'));
    file = join(dir, 'checks.yaml');
    secret = secretCheck(peer.closedPort);
    // Yearly cron slots: the scheduler runs (next run is shown) but adds no results mid-test.
    checksYaml = `defaults:
  schedule: "${YEARLY}"
  timeout: 2s
checks:
  - name: db-port
    type: tcp
    host: 127.0.0.1
    port: ${peer.port}
    labels: { service: hub }
  - name: dead-port
    type: tcp
    description: the stale public host the runbook warns about
    host: 127.0.0.1
    port: ${peer.closedPort}
    labels: { service: hub, env: prod }
  - name: html-label
    type: tcp
    description: '${HOSTILE_DESCRIPTION}'
    host: 127.0.0.1
    port: ${peer.port}
    labels: { owner: "${HOSTILE_LABEL}" }
  - name: queue-port
    type: tcp
    host: 127.0.0.1
    port: ${peer.port}
${secret?.yaml ?? ''}`;
    await writeFile(file, checksYaml);
    daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, token: TOKEN, version: '0.0.0-test' });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    daemon.start();

    // An older result as a remote server could shape it: markup in the message and observations.
    daemon.state.record({
      name: 'html-label',
      type: 'tcp',
      ok: false,
      reason: 'status',
      message: HOSTILE_MESSAGE,
      startedAt: new Date(Date.now() - 120_000).toISOString(),
      durationMs: 12,
      observations: { verdict: HOSTILE_VERDICT, header: HOSTILE_LABEL },
    });
    for (const name of ['db-port', 'dead-port', 'dead-port', 'html-label', ...(secret ? [secret.name] : [])]) await run(name);

    browser = await launch({ javaScriptEnabled: true });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(5000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  });

  afterAll(async () => {
    await browser.close();
    await app.close();
    await daemon.stop(1000);
    await peer.close();
    await Promise.all([dir, ...profiles].map((path) => rm(path, { recursive: true, force: true })));
    Reflect.deleteProperty(process.env, CANARY_ENV);
  });

  const failing = () => 1 + (secret ? 1 : 0);

  it('answers with HTML under a nonce CSP and nosniff, the same rows without JavaScript', async () => {
    const first = await get('/');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(first.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-[\w+/=]+'; script-src 'nonce-[\w+/=]+'; img-src 'self' data:/);
    const nonce = /script-src 'nonce-([\w+/=]+)'/.exec(csp)?.[1];
    expect(first.body).toContain(`<script nonce="${nonce ?? 'missing'}">`);
    expect((await get('/')).headers['content-security-policy']).not.toBe(csp);

    expect(first.body).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(first.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(first.body).not.toMatch(/http-equiv="refresh"/i);
    expect(first.body).toContain(`<title>${failing()} failing - driftwatch</title>`);
    const order = [...first.body.matchAll(/data-check="([^"]+)" data-status="([^"]+)"/g)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''}`);
    expect(order).toEqual(['dead-port:failing', ...(secret ? [`${secret.name}:failing`] : []), 'queue-port:pending', 'db-port:ok', 'html-label:ok']);
    expect(first.body).toContain('ECONNREFUSED');
    expect(first.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(first.body).not.toContain(HOSTILE_LABEL);
    expect(first.body).not.toContain(HOSTILE_MESSAGE);
    expect(first.body).toContain('href="/api/v1/checks/dead-port"');
    expect(first.body).toContain('href="/probe?check=dead-port&amp;debug=true"');
    expect(first.body).toContain('href="/metrics"');
    expect(first.body).toContain('href="/api/v1/openapi.json"');
    for (const path of ['/', '/checks/dead-port', '/checks/html-label', ...(secret ? [`/checks/${secret.name}`, `/api/v1/checks/${secret.name}`] : [])]) {
      expect((await get(path)).body, path).not.toContain(CANARY);
    }
  });

  it('shows in Chromium what is broken and why, failing first, with counts and escaped text', async () => {
    await page.goto(`${base}/`);
    expect(await page.title()).toBe(`${failing()} failing - driftwatch`);
    const counts = await page.locator('.counts').innerText();
    expect(counts).toContain(`${failing()} failing`);
    expect(counts).toContain('2 ok');
    expect(counts).toContain('1 pending');
    expect(await page.locator('.summary h1').innerText()).toBe(`${failing()} of ${4 + (secret ? 1 : 0)} checks failing`);

    const rows = await visibleRows(page);
    expect(rows[0]?.slice(0, 2)).toEqual(['dead-port', '✕ failing']);
    expect(rows[0]?.[2]).toMatch(/^connect\s+connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(rows.map((r) => r[1])).toEqual([...Array<string>(failing()).fill('✕ failing'), '○ pending', '✓ ok', '✓ ok']);
    expect(await page.locator('#check-dead-port .c-state').innerText()).toContain('2 runs in a row');
    expect(rows.find((r) => r[0] === 'queue-port')?.[2]).toMatch(/^Not run yet; next run in \d+ d$/);
    const lastRun = page.locator('#check-dead-port .c-last time');
    expect(await lastRun.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    // Hostile text is shown as text: no element, no dialog, and our own style and script still run.
    await expect.poll(() => page.getByText(HOSTILE_LABEL, { exact: false }).count()).toBeGreaterThan(0);
    expect(await page.getByText(HOSTILE_LABEL).first().isVisible()).toBe(true);
    expect(await page.getByText(HOSTILE_DESCRIPTION).isVisible()).toBe(true);
    expect(await page.locator('img, b').count()).toBe(0);
    const bars = page.locator('#check-html-label .strip li');
    expect(await bars.count()).toBe(2);
    expect(await bars.first().getAttribute('aria-label')).toContain(HOSTILE_MESSAGE);
    expect(await page.evaluate("getComputedStyle(document.querySelector('.pill.failing')).backgroundColor")).toBe('rgb(180, 35, 24)');
    expect(await page.locator('#auto-refresh-control').isVisible()).toBe(true);
    expect(await page.content()).not.toContain(CANARY);
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-laptop.png') });
  });

  it('fits a phone: cards instead of a table, no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/`);
    expect(await page.evaluate("getComputedStyle(document.querySelector('tr.row')).display")).toBe('grid');
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(Number(await page.evaluate('window.innerWidth')));
    expect((await visibleRows(page))[0]?.[2]).toContain('ECONNREFUSED');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone-full.png'), fullPage: true });
  });

  it('shows one check in detail: spec with secrets as [secret], schedule, source, recent results', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const name = secret?.name ?? 'dead-port';
    await page.goto(`${base}/checks/${name}`);
    expect(await page.locator('h1').innerText()).toContain(name);
    const facts = await page.locator('.grid').innerText();
    expect(facts).toMatch(/checks\.yaml:\d+/);
    expect(facts).toContain(`on cron schedule ${YEARLY}, timeout 2s`);
    if (secret) expect(await page.locator('.secret').innerText()).toBe('[secret]');
    expect(await page.content()).not.toContain(CANARY);
    const results = page.locator('table.results tbody tr');
    expect(await results.count()).toBe(daemon.state.get(name)?.history.length);
    expect(await results.first().innerText()).toContain('ECONNREFUSED');
    expect(JSON.parse(await page.locator('pre.observations').innerText())).toEqual(daemon.state.get(name)?.last?.observations);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-detail.png'), fullPage: true });

    await page.goto(`${base}/checks/html-label`);
    expect(await page.locator('table.results tbody tr').count()).toBe(2);
    expect(await page.getByText(HOSTILE_MESSAGE).isVisible()).toBe(true);
    expect(await page.getByText(HOSTILE_VERDICT).isVisible()).toBe(true);
    expect(await page.locator('img, b').count()).toBe(0);
    expect(dialogs).toEqual([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/checks/${name}`);
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(Number(await page.evaluate('window.innerWidth')));
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('reads the same with JavaScript off', async () => {
    await page.goto(`${base}/`);
    const withScript = await visibleRows(page);
    const noScript = await launch({ javaScriptEnabled: false });
    try {
      const plain = noScript.pages()[0] ?? (await noScript.newPage());
      await plain.goto(`${base}/`);
      expect(await visibleRows(plain)).toEqual(withScript);
      expect(await plain.title()).toBe(await page.title());
      expect(await plain.locator('#auto-refresh-control').isVisible()).toBe(false);
      expect(await plain.getByRole('link', { name: 'Refresh' }).getAttribute('href')).toBe('/');
      await plain.goto(`${base}/checks/dead-port`);
      expect(await plain.locator('table.results tbody tr').first().innerText()).toContain('ECONNREFUSED');
    } finally {
      await noScript.close();
    }
  });

  it('answers unknown checks with a 404 page that escapes the name', async () => {
    const res = await get('/checks/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('No check named “&lt;script&gt;alert(1)&lt;/script&gt;”');
    expect(res.body).not.toContain('<script');
  });

  it('says so in a banner when a reload failed and the old checks keep running', async () => {
    await writeFile(file, `${checksYaml}  - name: broken\n    type: tcp\n    port: 1\n`);
    const res = await request(`${base}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(422);
    await res.body.dump();
    await page.goto(`${base}/`);
    const banner = await page.getByRole('alert').innerText();
    expect(banner).toContain(`the check files are invalid, so the previous ${4 + (secret ? 1 : 0)} checks keep running unchanged`);
    expect(banner).toMatch(/checks\.yaml:\d+:\d+: checks\[\d\]\.host: required/);
    expect((await visibleRows(page)).length).toBe(4 + (secret ? 1 : 0));
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-reload-failed.png') });
  });
});
