/**
 * Real gRPC peers on loopback for the grpc check tests: a @grpc/grpc-js server per behaviour
 * (the standard health service SERVING or NOT_SERVING, no health service at all, a Check that
 * never answers, an answer larger than the check reads; the health service definition is
 * grpc-health-check's, the answers this peer's so it can record each call), plaintext, and optionally a TLS front
 * (node:tls, ALPN h2, a per-run certificate) that records the SNI of every handshake and passes
 * the bytes on, so a test can see the name a client asked for. The :authority of every call is
 * recorded by the gRPC server itself.
 */
import { connect as netConnect, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Server, ServerCredentials, status as grpcStatus, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { service as healthService, type ServingStatus } from 'grpc-health-check';

export type GrpcBehaviour = 'serving' | 'not-serving' | 'no-health' | 'hang' | 'oversized' | 'long-error';

export interface GrpcPeer {
  /** host:port a client dials (the TLS front when tls was given). */
  address: string;
  port: number;
  /** :authority of every health call the server saw. */
  authorities: string[];
  /** SNI of every TLS handshake the front saw ('' without SNI). */
  servernames: string[];
  /** Metadata values of the last call, by key (for the secret canary). */
  lastMetadata: Record<string, string>;
  /** Connections open through the TLS front now (a client that closes its channel leaves none). */
  openConnections(): number;
  close(): Promise<void>;
}

export interface GrpcPeerOptions {
  behaviour: GrpcBehaviour;
  /** Status of a named service besides the server's overall one (''). */
  services?: Record<string, ServingStatus>;
  /** Serve TLS with this certificate and key (PEM) in front of the gRPC server. */
  tls?: { cert: string; key: string };
  host?: string;
}

export async function startGrpcPeer(options: GrpcPeerOptions): Promise<GrpcPeer> {
  const host = options.host ?? '127.0.0.1';
  const authorities: string[] = [];
  const servernames: string[] = [];
  const peer = { lastMetadata: {} as Record<string, string> };
  const pending: sendUnaryData<unknown>[] = [];
  const server = new Server();
  const record = (call: ServerUnaryCall<unknown, unknown>) => {
    authorities.push(call.getHost());
    const meta: Record<string, string> = {};
    for (const [key, value] of Object.entries(call.metadata.getMap())) meta[key] = String(value);
    peer.lastMetadata = meta;
  };
  const statuses: Record<string, ServingStatus> = { '': options.behaviour === 'not-serving' ? 'NOT_SERVING' : 'SERVING', ...options.services };
  const check = (call: ServerUnaryCall<{ service?: string }, unknown>, callback: sendUnaryData<unknown>) => {
    record(call);
    if (options.behaviour === 'hang') {
      // Kept (never answered) until close.
      pending.push(callback);
      return;
    }
    // An error whose details (the grpc-message trailer) run to 30,000 characters.
    if (options.behaviour === 'long-error') {
      callback({ code: grpcStatus.INTERNAL, details: 'd'.repeat(30_000) });
      return;
    }
    const status = statuses[call.request.service ?? ''];
    // The health protocol: an unknown service is NOT_FOUND (clients report SERVICE_UNKNOWN).
    if (status === undefined) callback({ code: grpcStatus.NOT_FOUND, details: 'unknown service' });
    else callback(null, { status });
  };
  if (options.behaviour === 'oversized') {
    // The health Check path, answering SERVING plus 64 KiB of an unknown field (2, bytes): valid protobuf, past any small cap.
    const padding = Buffer.alloc(64 * 1024, 0x78);
    const big = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x80, 0x80, 0x04]), padding]);
    const checkMethod = healthService.Check;
    if (checkMethod === undefined) throw new Error('grpc-health-check has no Check method');
    const definition = { Check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: checkMethod.requestSerialize, requestDeserialize: checkMethod.requestDeserialize, responseSerialize: () => big, responseDeserialize: checkMethod.responseDeserialize } };
    server.addService(definition, { Check: check } satisfies UntypedServiceImplementation);
  } else if (options.behaviour !== 'no-health') {
    server.addService(healthService, { Check: check, Watch: () => undefined, List: (_call: unknown, cb: sendUnaryData<unknown>) => { cb({ code: grpcStatus.UNIMPLEMENTED }); } } satisfies UntypedServiceImplementation);
  }
  // no-health: a real gRPC server with no service at all, answering every call UNIMPLEMENTED.
  const innerPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.tls ? '127.0.0.1' : host}:0`, ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(err);
      else resolve(port);
    });
  });
  let front: NetServer | undefined;
  const sockets = new Set<Socket>();
  let port = innerPort;
  if (options.tls) {
    const tlsServer = createTlsServer({ cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ['h2'] }, (socket: TLSSocket) => {
      const sni = (socket as TLSSocket & { servername?: string | false }).servername;
      servernames.push(typeof sni === 'string' ? sni : '');
      const inner = netConnect(innerPort, '127.0.0.1');
      sockets.add(socket).add(inner);
      socket.pipe(inner).pipe(socket);
      const drop = () => {
        socket.destroy();
        inner.destroy();
        sockets.delete(socket);
        sockets.delete(inner);
      };
      socket.on('error', drop).on('close', drop);
      inner.on('error', drop).on('close', drop);
    });
    front = tlsServer;
    port = await new Promise<number>((resolve) => {
      tlsServer.listen(0, host, () => {
        const address = tlsServer.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }
  return {
    address: `${host}:${port}`,
    port,
    authorities,
    servernames,
    openConnections: () => sockets.size / 2,
    get lastMetadata() {
      return peer.lastMetadata;
    },
    async close() {
      for (const callback of pending) callback({ code: grpcStatus.CANCELLED });
      for (const socket of sockets) socket.destroy();
      if (front) await new Promise<void>((resolve) => front.close(() => { resolve(); }));
      server.forceShutdown();
    },
  };
}
