import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { decode, encode, TRUNCATED_RESPONSE, type DecodedPacket } from 'dns-packet';
import { onCleanup } from './cleanup.js';
import { BENCH_ANSWER } from './knot.js';
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
  /** Accepts TCP connections and never answers: a DNS-over-TCP check times out on it. */
  hangingTcpDns: string;
  /** Answers every UDP query truncated (TC, no records) and the same query over TCP in full (BENCH_ANSWER): the fallback path. */
  truncatingDns: string;
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

  const truncating = await startTruncatingDns();
  onCleanup('truncating dns', truncating.close);

  const closed = await freePort();
  return {
    flappingHttp: `http://127.0.0.1:${flapPort}/flap`,
    hangingHttp: `http://127.0.0.1:${hangPort}/hang`,
    closedHttp: `http://127.0.0.1:${closed}/closed`,
    closedDns: `127.0.0.1:${closed}`,
    hangingDns: `127.0.0.1:${udpPort(silent)}`,
    flappingDns: `127.0.0.1:${udpPort(flappingDns)}`,
    hangingTcpDns: `127.0.0.1:${hangPort}`,
    truncatingDns: `127.0.0.1:${truncating.port}`,
  };
}

/** The answer to a query, as the truncating peer gives it: over UDP only the header and question with TC set. */
function answerOf(data: Buffer, truncated: boolean): Buffer | undefined {
  let query: DecodedPacket;
  try {
    query = decode(data);
  } catch {
    return undefined;
  }
  const question = query.questions?.[0];
  if (!question) return undefined;
  const answers = truncated || question.type !== 'A' ? [] : [{ type: 'A' as const, name: question.name, ttl: 30, class: 'IN' as const, data: BENCH_ANSWER }];
  return encode({ type: 'response', id: query.id ?? 0, flags: (1 << 10) | (truncated ? TRUNCATED_RESPONSE : 0), questions: [question], answers });
}

/** UDP and TCP on one port, as a name server is reached: truncated over UDP, whole over TCP (2-byte length framing). */
async function startTruncatingDns(): Promise<{ port: number; close: () => Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const held = new Set<Socket>();
    const tcp = createServer((socket) => {
      held.add(socket);
      let received = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('close', () => held.delete(socket));
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          const size = received.readUInt16BE(0);
          const response = answerOf(received.subarray(2, 2 + size), false);
          received = received.subarray(2 + size);
          if (response) socket.write(Buffer.concat([Buffer.from([response.length >> 8, response.length & 0xff]), response]));
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => {
          resolve();
        });
      });
      const udp = await bindUdp((socket, data, remotePort, address) => {
        const response = answerOf(data, true);
        if (response) socket.send(response, remotePort, address);
      }, port);
      return {
        port,
        close: async () => {
          for (const socket of held) socket.destroy();
          await Promise.all([closeServer(tcp), closeUdp(udp)]);
        },
      };
    } catch (err) {
      await closeServer(tcp).catch(() => undefined);
      // Another process took the port between freePort() and our bind: try another.
      if (attempt >= 5) throw err;
    }
  }
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

function bindUdp(onMessage: (socket: UdpSocket, data: Buffer, port: number, address: string) => void, port = 0): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  socket.on('message', (data, remote) => {
    onMessage(socket, data, remote.port, remote.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
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
