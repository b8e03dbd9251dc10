/**
 * A tiny authoritative DNS server for the local demo: A records from a mutable map, over UDP
 * and TCP on one loopback port, with no system packages (the demo must run on a bare machine;
 * the test suite uses real Knot instead). Names not in the map answer NXDOMAIN; other record
 * types of a known name answer NODATA.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { AUTHORITATIVE_ANSWER, decode, encode, type DecodedPacket } from 'dns-packet';

export interface DnsServer {
  /** `127.0.0.1:PORT`, as a dns check's resolvers entry. */
  address: string;
  host: string;
  port: number;
  /** Replaces the A records of a name; an empty list removes the name (NXDOMAIN). */
  set(name: string, addresses: readonly string[]): void;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  host?: string;
  /** 0 (default) picks a free port for both UDP and TCP. */
  port?: number;
  records?: Record<string, readonly string[]>;
  ttl?: number;
}

const NXDOMAIN = 3;
const FORMERR = 1;

export async function startDnsServer(options: DnsServerOptions = {}): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  const ttl = options.ttl ?? 30;
  const records = new Map<string, readonly string[]>();
  const set = (name: string, addresses: readonly string[]) => {
    if (addresses.length === 0) records.delete(key(name));
    else records.set(key(name), [...addresses]);
  };
  for (const [name, addresses] of Object.entries(options.records ?? {})) set(name, addresses);
  const answer = (query: Buffer) => respond(query, records, ttl);

  // UDP takes the port first; TCP must get the same one, which a port-0 choice may lose to
  // another process, so try a few ports.
  for (let attempt = 1; ; attempt++) {
    const udp = await bindUdp(host, options.port ?? 0, answer);
    const port = udp.address().port;
    try {
      const tcp = await listenTcp(host, port, answer);
      return {
        address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
        host,
        port,
        set,
        async close() {
          await closeUdp(udp);
          await tcp.close();
        },
      };
    } catch (err) {
      await closeUdp(udp);
      if (options.port || attempt >= 10) throw err;
    }
  }
}

function key(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The wire answer to one query; undefined for input that is not a query at all. */
function respond(query: Buffer, records: ReadonlyMap<string, readonly string[]>, ttl: number): Buffer | undefined {
  let packet: DecodedPacket;
  try {
    packet = decode(query);
  } catch {
    return undefined;
  }
  if (packet.type !== 'query') return undefined;
  const question = packet.questions?.[0];
  if (!question) return encode({ type: 'response', id: packet.id ?? 0, flags: FORMERR, questions: [] });
  const addresses = records.get(key(question.name));
  const base = { type: 'response' as const, id: packet.id ?? 0, questions: [question] };
  if (!addresses) return encode({ ...base, flags: AUTHORITATIVE_ANSWER | NXDOMAIN });
  const answers = question.type === 'A' ? addresses.map((data) => ({ type: 'A' as const, name: question.name, ttl, data })) : [];
  return encode({ ...base, flags: AUTHORITATIVE_ANSWER, answers });
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
