/**
 * DNS on one loopback port over UDP and TCP (2-byte length prefix, several messages per
 * connection), for the demo's server and the tests' hostile one: each query's wire reply comes
 * from `answer`, which says how it came in. UDP takes the port first; TCP must get the same one,
 * which a port-0 choice may lose to another process, so a few ports are tried.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';

export type WireAnswer = (query: Buffer, transport: 'udp' | 'tcp') => Buffer | undefined;

export async function listenDns(host: string, port: number | undefined, answer: WireAnswer): Promise<{ port: number; close: () => Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(host, port ?? 0, (query) => answer(query, 'udp'));
    const bound = udp.address().port;
    try {
      const tcp = await listenTcp(host, bound, (query) => answer(query, 'tcp'));
      return {
        port: bound,
        close: async () => {
          await closeUdp(udp);
          await tcp.close();
        },
      };
    } catch (err) {
      await closeUdp(udp);
      if (port || attempt >= 10) throw err;
    }
  }
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.close(() => {
      resolve();
    });
  });
}

function bindUdp(host: string, port: number, answer: (query: Buffer) => Buffer | undefined): Promise<UdpSocket> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (message, peer) => {
    const reply = answer(message);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.removeListener('error', reject);
      // A send to a vanished client must not crash the demo.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function listenTcp(host: string, port: number, answer: (query: Buffer) => Buffer | undefined): Promise<{ close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    serveTcp(socket, answer);
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      // server.close() waits for open connections; clients that linger are cut off instead.
      for (const socket of open) socket.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve({ close });
    });
  });
}

/** DNS over TCP: each message has a 2-byte length prefix; a connection may carry several. */
function serveTcp(socket: Socket, answer: (query: Buffer) => Buffer | undefined): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const size = pending.readUInt16BE(0);
      const reply = answer(pending.subarray(2, 2 + size));
      pending = pending.subarray(2 + size);
      if (!reply) {
        socket.destroy();
        return;
      }
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      socket.write(Buffer.concat([length, reply]));
    }
  });
}
