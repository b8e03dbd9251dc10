/**
 * Regenerates docs/status-page.png, the status page screenshot in the README: a daemon with a
 * few checks against peers on loopback (an API that flaps, one that is slow, one that is fine, a
 * port nobody listens on), each run a dozen times, photographed by headless Chromium.
 *
 *   npx tsx scripts/screenshot.ts [--out docs/status-page.png]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import pino from 'pino';
import { buildApi } from '../src/api/server.js';
import { createDaemon } from '../src/daemon/daemon.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: fileURLToPath(new URL('../docs/status-page.png', import.meta.url)) } } });
const RUNS = 14;

async function listenLoopback(server: { listen(port: number, host: string, done: () => void): unknown; address(): unknown }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null || !('port' in address) || typeof address.port !== 'number') throw new Error('no port');
  return address.port;
}

async function main(): Promise<void> {
  let flips = 0;
  let slow = 0;
  const peer = createServer((request, response) => {
    if (request.url === '/flap') {
      flips += 1;
      response.writeHead(flips % 3 === 0 ? 503 : 200).end();
    } else if (request.url === '/slow') {
      slow += 1;
      setTimeout(() => response.writeHead(200).end(), 60 + ((slow * 37) % 140));
    } else response.writeHead(200).end('ok');
  });
  const port = await listenLoopback(peer);
  // A port that was free a moment ago: nothing listens there now.
  const closed = createTcpServer();
  const closedPort = await listenLoopback(closed);
  await new Promise((resolve) => closed.close(resolve));
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-screenshot-'));
  const file = join(dir, 'checks.yaml');
  const base = `http://127.0.0.1:${port}`;
  await writeFile(
    file,
    `defaults: { schedule: "0 0 1 1 *", timeout: 2s }
checks:
  - { name: checkout-api, type: http, url: "${base}/flap", description: answers 503 now and then, labels: { service: shop } }
  - { name: search-api, type: http, url: "${base}/slow", description: slow but fine, labels: { service: shop } }
  - { name: hub-health, type: http, url: "${base}/", labels: { service: hub } }
  - { name: hub-db, type: tcp, host: 127.0.0.1, port: ${closedPort}, description: the old database host, labels: { service: hub } }
  - { name: queue-port, type: tcp, host: 127.0.0.1, port: ${port}, labels: { service: hub } }
`,
  );
  const log = pino({ level: 'silent' });
  const daemon = createDaemon({ checkPaths: [file], log });
  await daemon.load();
  const app = buildApi({ daemon, log, version: 'screenshot' });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  daemon.start();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    for (let i = 0; i < RUNS; i++) for (const name of ['checkout-api', 'search-api', 'hub-health', 'hub-db', 'queue-port']) await daemon.runNow(name);
    const page = await browser.newPage({ viewport: { width: 1280, height: 640 }, deviceScaleFactor: 1 });
    await page.goto(address);
    await page.screenshot({ path: values.out, fullPage: true });
    process.stdout.write(`wrote ${values.out}\n`);
  } finally {
    await browser.close();
    await app.close();
    await daemon.stop(1000);
    await new Promise((resolve) => peer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
