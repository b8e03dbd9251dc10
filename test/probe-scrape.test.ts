import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger } from './support/checks.js';
import { startTcpPeer } from './support/tcp-peer.js';

/** Accepts connections and never answers; counts the ones still open. */
async function startHangingPeer(): Promise<{ port: number; open: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => { resolve(); });
      }),
  };
}

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('/probe as Prometheus scrapes it: timeouts, callers that leave, hanging targets', { timeout: 60_000 }, () => {
  let dir: string;
  let hanging: Awaited<ReturnType<typeof startHangingPeer>>;
  let tcp: Awaited<ReturnType<typeof startTcpPeer>>;
  const daemons: Daemon[] = [];
  const apps: FastifyInstance[] = [];
  let base: string;

  const start = async (probeConcurrency?: number): Promise<string> => {
    const daemon = createDaemon({ checkPaths: [join(dir, 'checks.yaml')], log: memoryLogger().log, ...(probeConcurrency !== undefined && { probeConcurrency }) });
    await daemon.load();
    const app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    daemons.push(daemon);
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };

  beforeAll(async () => {
    hanging = await startHangingPeer();
    tcp = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-scrape-'));
    await writeFile(
      join(dir, 'checks.yaml'),
      `defaults: { interval: 1h }
checks:
  - name: hang
    type: http
    url: http://127.0.0.1:${hanging.port}/
    timeout: 20s
    allowTargets: ["http://127.0.0.1:*/*"]
  - name: quick
    type: tcp
    host: 127.0.0.1
    port: ${tcp.port}
    timeout: 5s
  - name: http-2xx
    type: tcp
    host: 127.0.0.1
    port: ${tcp.port}
`,
    );
    base = await start();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const daemon of daemons) await daemon.stop(1000);
    await hanging.close();
    await tcp.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a hanging target with probe_success 0 before the scrape timeout runs out', async () => {
    const started = Date.now();
    const res = await fetch(`${base}/probe?module=hang`, { headers: { accept: PROMETHEUS_ACCEPT, 'x-prometheus-scrape-timeout-seconds': '3' } });
    const elapsed = Date.now() - started;
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(body).toMatch(/^probe_success 0$/m);
    // The check allows 20s; the scrape 3s less blackbox's 0.5s offset.
    expect(body).toMatch(/^probe_timeout_seconds 2\.5$/m);
    // Cut off, the run still reports what it had: the address it dialled and the connect phase.
    expect(body).toMatch(/^probe_ip_protocol 4$/m);
    expect(Number(/^probe_http_duration_seconds\{phase="connect"\} (\S+)$/m.exec(body)?.[1])).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(3000);
  });

  it('keeps answering unrelated probes while 24 probes of a hanging target are in flight', async () => {
    const header = { 'x-prometheus-scrape-timeout-seconds': '3' };
    const started = Date.now();
    const hangs = Array.from({ length: 24 }, () => fetch(`${base}/probe?check=hang`, { headers: header }).then(async (res) => ({ status: res.status, body: (await res.json()) as { ok: boolean; message: string } })));
    await until('the hanging probes to connect', () => hanging.open() >= 16);
    const quick = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${base}/probe?module=quick`, { headers: { accept: PROMETHEUS_ACCEPT, ...header } });
        return { status: res.status, body: await res.text(), at: Date.now() - started };
      }),
    );
    const hung = await Promise.all(hangs);
    const lastHang = Date.now() - started;
    for (const q of quick) {
      expect(q.status).toBe(200);
      expect(q.body).toMatch(/^probe_success 1$/m);
      // Answered while the hanging ones still waited, not after them.
      expect(q.at).toBeLessThan(lastHang);
    }
    expect(hung.map((h) => h.status)).toEqual(Array.from({ length: 24 }, () => 200));
    expect(hung.every((h) => !h.body.ok)).toBe(true);
    // One check and target gets a quarter of the 64 slots; the rest wait out their deadline and say so.
    // One check and target gets a quarter of the 64 slots; the rest wait, within their own deadline, and say so.
    expect(hung.filter((h) => h.body.message === 'timeout after 2500ms')).toHaveLength(16);
    const waited = hung.filter((h) => h.body.message !== 'timeout after 2500ms');
    expect(waited).toHaveLength(8);
    for (const h of waited) expect(h.body.message).toMatch(/^timeout after 2500ms(, \d+ms of it)? waiting for an on-demand slot/);
    await until('the hanging connections to close', () => hanging.open() === 0);
  });

  it('stops a probe whose caller went away and frees its slot', async () => {
    // One slot in all: if the abandoned probe kept it, the next probe would wait for its 20s.
    const one = await start(1);
    const caller = new AbortController();
    const abandoned = fetch(`${one}/probe?check=hang`, { signal: caller.signal }).catch((err: unknown) => err);
    await until('the probe to connect', () => hanging.open() === 1);
    caller.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    await until('the target connection to close', () => hanging.open() === 0, 5000);
    const next = await fetch(`${one}/probe?check=quick`);
    expect(await next.json()).toMatchObject({ name: 'quick', ok: true });
    // An abandoned run is not the check's result.
    const history = (await (await fetch(`${one}/api/v1/checks/hang`)).json()) as { recent: unknown[] };
    expect(history.recent).toEqual([]);
  });

  it('answers the text format to Prometheus and module= callers, JSON to check= callers', async () => {
    const get = async (query: string, accept?: string) => {
      const res = await fetch(`${base}/probe?${query}`, accept === undefined ? {} : { headers: { accept } });
      return { type: res.headers.get('content-type') ?? '', body: await res.text() };
    };
    expect((await get('module=quick')).body).toMatch(/^probe_success 1$/m);
    expect((await get('module=quick', '*/*')).type).toContain('text/plain');
    expect(JSON.parse((await get('module=quick', 'application/json')).body)).toMatchObject({ name: 'quick', ok: true });
    expect((await get('check=quick', PROMETHEUS_ACCEPT)).type).toContain('text/plain');
    expect(JSON.parse((await get('check=quick')).body)).toMatchObject({ ok: true });
    expect(JSON.parse((await get('check=quick', 'text/html,application/xhtml+xml,*/*;q=0.8')).body)).toMatchObject({ ok: true });
    expect((await get('check=quick&format=prometheus', 'application/json')).type).toContain('text/plain');
    expect(JSON.parse((await get('module=quick&format=json', PROMETHEUS_ACCEPT)).body)).toMatchObject({ ok: true });
    // blackbox module names have underscores; check names have dashes.
    expect((await get('module=http_2xx')).body).toMatch(/^probe_success 1$/m);
  });

  it('rejects a scrape timeout header that is not a number, and module with check', async () => {
    const bad = await fetch(`${base}/probe?module=quick`, { headers: { 'x-prometheus-scrape-timeout-seconds': 'soon' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'DRIFTWATCH_BAD_SCRAPE_TIMEOUT', message: 'X-Prometheus-Scrape-Timeout-Seconds: expected a number of seconds, got "soon"' });
    const both = await fetch(`${base}/probe?module=quick&check=quick`);
    expect(both.status).toBe(400);
    expect(((await both.json()) as { message: string }).message).toContain('give check=NAME or module=NAME');
    expect((await fetch(`${base}/probe?module=nope`)).status).toBe(404);
  });
});
