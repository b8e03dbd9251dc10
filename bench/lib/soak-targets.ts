import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { decode, encode, type DecodedPacket } from 'dns-packet';
import { onCleanup } from './cleanup.js';
import { freePort } from './ports.js';

/** The misbehaving peers of the soak, all on 127.0.0.1 in the benchmark's own process. */
export interface SoakTargets {
  /** Answers 200 and 500 in turn. */
  flappingHttp: string;
  /** Accepts connections and never answers (the check times out). */
  hangingHttp: string;
  /** Nothing listens here (TCP and UDP). */
  closedHttp: string;
  closedDns: string;
  /** Receives queries and never answers. */
  hangingDns: string;
  /** Answers A queries with FLAP_ANSWERS[0] and [1] in turn. */
  flappingDns: string;
}

export const FLAP_ANSWERS = ['127.0.0.10', '127.0.0.11'] as const;

export async function startSoakTargets(): Promise<SoakTargets> {
  let flips = 0;
  const flapping = createHttpServer((_req, res) => {
    flips++;
    res.writeHead(flips % 2 === 0 ? 200 : 500, { 'content-type': 'text/plain' }).end('flap\n');
  });
  const flapPort = await listen(flapping);
  onCleanup('flapping http', () => closeServer(flapping));

  const held = new Set<Socket>();
  const hanging = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => held.delete(socket));
  });
  const hangPort = await listen(hanging);
  onCleanup('hanging tcp', async () => {
    for (const socket of held) socket.destroy();
    await closeServer(hanging);
  });

  const silent = await bindUdp(() => undefined);
  onCleanup('hanging dns', () => closeUdp(silent));

  let answersGiven = 0;
  const flappingDns = await bindUdp((socket, data, port, address) => {
    let query: DecodedPacket;
    try {
      query = decode(data);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    answersGiven++;
    const answer = FLAP_ANSWERS[answersGiven % 2] ?? FLAP_ANSWERS[0];
    const response = encode({
      type: 'response',
      id: query.id ?? 0,
      flags: 1 << 10,
      questions: [question],
      answers: question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 30, class: 'IN', data: answer }] : [],
    });
    socket.send(response, port, address);
  });
  onCleanup('flapping dns', () => closeUdp(flappingDns));

  const closed = await freePort();
  return {
    flappingHttp: `http://127.0.0.1:${flapPort}/flap`,
    hangingHttp: `http://127.0.0.1:${hangPort}/hang`,
    closedHttp: `http://127.0.0.1:${closed}/closed`,
    closedDns: `127.0.0.1:${closed}`,
    hangingDns: `127.0.0.1:${udpPort(silent)}`,
    flappingDns: `127.0.0.1:${udpPort(flappingDns)}`,
  };
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function closeServer(server: Server | HttpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

function bindUdp(onMessage: (socket: UdpSocket, data: Buffer, port: number, address: string) => void): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  socket.on('message', (data, remote) => {
    onMessage(socket, data, remote.port, remote.address);
  });
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => {
      resolve(socket);
    });
  });
}

function udpPort(socket: UdpSocket): number {
  return socket.address().port;
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.close(() => {
      resolve();
    });
  });
}
