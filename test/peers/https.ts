/**
 * Real HTTP(S) peers on loopback for the http, tls, ingress and openapi tests: a configurable
 * HTTPS server ("ingress" on 127.0.0.2, "stale host" on 127.0.0.3, same hostname, per-run
 * certificates) that records the SNI and Host of every request, and misbehaving servers (never
 * answers, resets, endless body). Every peer closes its server and its open sockets in close().
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Wait this long before answering (for maxDuration tests). */
  delayMs?: number;
}

/** What the server saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  /** The Host header. */
  host: string | undefined;
  /** The TLS SNI server name (undefined on plain HTTP or without SNI). */
  servername: string | undefined;
  headers: IncomingHttpHeaders;
  /** The request body as text ('' when none). */
  body: string;
}

export type Route = Reply | ((request: SeenRequest) => Reply);

export interface PeerOptions {
  /** A loopback address: 127.0.0.2 plays the ingress, 127.0.0.3 the stale host. */
  host: string;
  port?: number;
  /** Routes by path (query ignored); unmatched paths answer 404. */
  routes?: Record<string, Route>;
}

export interface HttpsPeerOptions extends PeerOptions {
  tls: { cert: string; key: string };
}

export interface HttpPeer {
  host: string;
  port: number;
  /** Every request, in order. */
  requests: SeenRequest[];
  /** `https://HOSTNAME:PORT/path` (or http), to pair with `resolve: <host>`. */
  url(path: string, hostname?: string): string;
  routes: Record<string, Route>;
  close(): Promise<void>;
}

export interface HttpsPeer extends HttpPeer {
  /** The SNI server name of every TLS handshake that sent one (with or without a request after it). */
  handshakes: string[];
  /** Serve another certificate from now on (new connections). */
  setCertificate(tls: { cert: string; key: string }): void;
}

export async function startHttpsPeer(options: HttpsPeerOptions): Promise<HttpsPeer> {
  const handshakes: string[] = [];
  // Seen at ClientHello, so a client that hangs up right after its handshake is still recorded.
  const SNICallback = (servername: string, done: (err: Error | null, ctx?: SecureContext) => void) => {
    handshakes.push(servername);
    done(null);
  };
  const server = createHttpsServer({ cert: options.tls.cert, key: options.tls.key, SNICallback });
  const peer = await servePeer(server, options, 'https');
  return {
    ...peer,
    handshakes,
    setCertificate: (tls) => {
      server.setSecureContext({ cert: tls.cert, key: tls.key });
    },
  };
}

export function startHttpPeer(options: PeerOptions): Promise<HttpPeer> {
  return servePeer(createHttpServer(), options, 'http');
}

async function servePeer(server: Server, options: PeerOptions, scheme: 'http' | 'https'): Promise<HttpPeer> {
  const requests: SeenRequest[] = [];
  const routes = options.routes ?? {};
  const timers = new Set<NodeJS.Timeout>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  const answer = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const seen = recordOf(req, body);
    requests.push(seen);
    const route = routes[seen.path];
    const reply = route === undefined ? { status: 404, body: 'not found' } : typeof route === 'function' ? route(seen) : route;
    const send = () => {
      const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const type = typeof reply.body === 'string' || reply.body === undefined ? 'text/plain' : 'application/json';
      res.writeHead(reply.status ?? 200, { 'content-type': type, ...reply.headers });
      res.end(body);
    };
    if (!reply.delayMs) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, reply.delayMs);
    timers.add(timer);
  };
  const listening = await listen(server, options);
  return {
    host: options.host,
    port: listening.port,
    requests,
    routes,
    url: (path, hostname = options.host) => `${scheme}://${hostname}:${listening.port}${path}`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      await listening.close();
    },
  };
}

function recordOf(req: IncomingMessage, body: string): SeenRequest {
  const servername = req.socket instanceof TLSSocket && typeof req.socket.servername === 'string' ? req.socket.servername : undefined;
  return {
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] ?? '/',
    host: req.headers.host,
    servername,
    headers: req.headers,
    body,
  };
}

/** A loopback listener that tracks its sockets so close() leaves nothing open. */
interface Listening {
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server | ReturnType<typeof createNetServer>, options: { host: string; port?: number }): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
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

/** A bare peer: where it listens and how to shut it. */
export interface BrokenPeer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never sends a byte (no TLS handshake, no HTTP response). */
export async function startSilentPeer(host = '127.0.0.1'): Promise<BrokenPeer> {
  // Reading (and dropping) keeps the socket flowing, so it sees the client's FIN and closes.
  const server = createNetServer((socket) => socket.resume());
  return { host, ...(await listen(server, { host })) };
}

/** Accepts and immediately resets each connection (TCP RST: ECONNRESET at the client). */
export async function startResettingPeer(host = '127.0.0.1'): Promise<BrokenPeer> {
  const server = createNetServer((socket) => {
    socket.resetAndDestroy();
  });
  return { host, ...(await listen(server, { host })) };
}

/** Answers 200 and streams a body that never ends (64 KiB chunks, optionally paced). */
export async function startEndlessPeer(host = '127.0.0.1', chunkDelayMs = 0): Promise<BrokenPeer> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      while (!res.destroyed) {
        if (chunkDelayMs > 0) {
          res.write(chunk);
          timer = setTimeout(pump, chunkDelayMs);
          return;
        }
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.on('close', () => {
      clearTimeout(timer);
    });
    pump();
  });
  return { host, ...(await listen(server, { host })) };
}
