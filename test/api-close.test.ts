import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenDaemonApi } from './support/daemon-api.js';
import { listenLoopback } from './support/ports.js';

const SLOW_MS = 400;

// A keep-alive client (a browser on the status page, Prometheus scraping) whose request is still
// in flight when the API closes: the answer is sent, then the connection is closed, and close()
// ends at once instead of waiting out fastify's 72 s keep-alive timeout for the client to hang up.
describe('closing the API with a keep-alive request in flight', () => {
  let target: Server;
  let port: number;
  /** Resolved when the target has the probe's request: the /probe is in flight. */
  let arrived: () => void = () => undefined;

  beforeAll(async () => {
    target = createServer((_request, response) => {
      arrived();
      setTimeout(() => response.end('slow ok'), SLOW_MS);
    });
    port = await listenLoopback(target);
  });
  afterAll(async () => {
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
  });

  it('answers the request, closes its connection, and closes soon after the answer', async () => {
    const api = await listenDaemonApi(`checks:\n  - { name: slow-page, type: http, url: "http://127.0.0.1:${port}/", interval: 1h, timeout: 5s }\n`);
    const { hostname, port: apiPort } = new URL(api.base);
    const socket = connect(Number(apiPort), hostname);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const socketClosed = new Promise<number>((resolve) => socket.once('close', () => { resolve(performance.now()); }));
    await new Promise((resolve) => socket.once('connect', resolve));
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    socket.write('GET /probe?check=slow-page&format=prometheus HTTP/1.1\r\nHost: driftwatch\r\nConnection: keep-alive\r\n\r\n');
    await inFlight;

    const t0 = performance.now();
    let closedAt = 0;
    const closing = api.close().then(() => (closedAt = performance.now()));
    const limit = new Promise<'held'>((resolve) => setTimeout(() => { resolve('held'); }, 10_000).unref());
    expect(await Promise.race([closing.then(() => 'closed' as const), limit]), 'close() waited for the client to hang up').toBe('closed');
    socket.destroy();

    // The in-flight request got its whole answer before the connection closed.
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('probe_success 1');
    const socketClosedAt = await socketClosed;
    expect(socketClosedAt - t0).toBeGreaterThan(SLOW_MS / 2);
    expect(closedAt - t0).toBeLessThan(SLOW_MS + 3000);
  });
});
