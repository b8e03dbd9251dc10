/**
 * A small HTTPS site for the demo: fixed answers by path, on one loopback address. close()
 * also cuts open keep-alive connections, so stopping the demo never waits on a client.
 */
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface Page {
  status: number;
  /** A string is sent as text/html; anything else as JSON. */
  body: unknown;
}

export interface SiteOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls: { cert: string; key: string };
  /** Exact paths (query ignored); anything else answers 404. */
  pages: Record<string, Page>;
}

export interface Site {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startSite(options: SiteOptions): Promise<Site> {
  const sockets = new Set<Socket>();
  const server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const page = options.pages[path] ?? { status: 404, body: '<h1>404 Not Found</h1>' };
    const json = typeof page.body !== 'string';
    res.writeHead(page.status, { 'content-type': json ? 'application/json' : 'text/html; charset=utf-8' });
    res.end(json ? JSON.stringify(page.body) : page.body);
  });
  // Plain TCP connections, before TLS: a client that never finishes its handshake is cut too.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that hangs up mid-handshake is no reason to stop the demo.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: options.host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}
