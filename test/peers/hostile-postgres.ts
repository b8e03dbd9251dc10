/**
 * A hostile PostgreSQL server on 127.0.0.1 (raw TCP, port 0): it speaks the wire protocol far
 * enough to reach a client's parser, then misbehaves in the way the StartupMessage's `database`
 * names (one server, every mode; `benign` answers the check's status query as a primary would). With `tls` it answers an SSLRequest with 'S' and continues over
 * TLS; without, it answers 'N' (sslmode disable sends the StartupMessage directly). Everything
 * endless is streamed lazily, honouring backpressure, and stops at `maxBytes` or `maxMs` per
 * connection, or as soon as the client hangs up.
 */
import { createServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export const HOSTILE_MODES = ['benign', 'auth-unknown', 'auth-short', 'error-endless', 'huge-parameter', 'rows', 'big-field', 'error-1mb', 'notice-flood'] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

export interface HostilePostgres {
  host: '127.0.0.1';
  port: number;
  /** Bytes written to clients per mode (all connections), to show how early a client hung up. */
  sent: Map<HostileMode, number>;
  close(): Promise<void>;
}

export interface HostileOptions {
  tls?: { cert: string; key: string };
  /** Per connection (default 600 MiB: more than a daemon may hold, so an unbounded client shows it). */
  maxBytes?: number;
  /** Per connection (default 20 s). */
  maxMs?: number;
}

const SSL_REQUEST = 80877103;
const ROWS = 10_000_000;
const FIELD_BYTES = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;

export async function startHostilePostgres(options: HostileOptions = {}): Promise<HostilePostgres> {
  const sockets = new Set<Socket>();
  const sent = new Map<HostileMode, number>();
  const limits = { maxBytes: options.maxBytes ?? 600 * 1024 * 1024, maxMs: options.maxMs ?? 20_000 };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serve(socket, options.tls, limits, sent).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('hostile postgres: no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    sent,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

async function serve(socket: Socket, tls: HostileOptions['tls'], limits: Limits, sent: Map<HostileMode, number>): Promise<void> {
  let stream: Duplex = socket;
  let startup = await readStartup(stream);
  if (startup.readInt32BE(0) === SSL_REQUEST) {
    if (tls === undefined) {
      socket.write('N');
    } else {
      socket.write('S');
      const secure = new TLSSocket(socket, { isServer: true, cert: tls.cert, key: tls.key });
      secure.on('error', () => socket.destroy());
      stream = secure;
    }
    startup = await readStartup(stream);
  }
  const database = startupParameters(startup).get('database');
  const mode = HOSTILE_MODES.find((m) => m === database);
  if (mode === undefined) {
    stream.end(errorResponse('3D000', `hostile peer: no mode "${database ?? ''}"; one of ${HOSTILE_MODES.join(', ')}`));
    return;
  }
  const out = new Output(stream, limits, (bytes) => sent.set(mode, (sent.get(mode) ?? 0) + bytes));
  await misbehave(mode, stream, out);
}

async function misbehave(mode: HostileMode, stream: Duplex, out: Output): Promise<void> {
  switch (mode) {
    case 'auth-unknown':
      out.write(message('R', int32(99)));
      return;
    case 'auth-short':
      // Declares 4 bytes (the length alone): the auth type a parser reads is not there.
      out.write(header('R', 4));
      return;
    case 'error-endless':
      out.write(Buffer.concat([header('E', 0x7fffffff), Buffer.from('SERROR\0Mendless ')]));
      await out.stream(() => Buffer.alloc(CHUNK, 'e'));
      return;
    case 'huge-parameter':
      out.write(message('R', int32(0)));
      out.write(Buffer.concat([header('S', 0x7fffffff), Buffer.from('server_version\0')]));
      await out.stream(() => Buffer.alloc(CHUNK, 'v'));
      return;
    case 'error-1mb':
      out.write(errorResponse('XX000', `hostile: ${'A'.repeat(1_000_000)}`));
      return;
    case 'benign':
      // A well-behaved primary: what the status query expects, then idle.
      out.write(ready());
      await nextData(stream);
      out.write(Buffer.concat([rowDescription(), message('D', Buffer.concat([int16(3), field('15.0'), field('f'), int32(-1)])), message('C', Buffer.from('SELECT 1\0')), message('Z', Buffer.from('I'))]));
      return;
    case 'rows':
    case 'big-field':
    case 'notice-flood':
      out.write(ready());
      await nextData(stream);
      out.write(rowDescription());
      await answer(mode, out);
  }
}

/** The answer to the first query (the check's status query). */
async function answer(mode: 'rows' | 'big-field' | 'notice-flood', out: Output): Promise<void> {
  if (mode === 'big-field') {
    // One DataRow declaring a 100 MiB first column, its bytes streamed until the bound.
    const head = Buffer.concat([header('D', 4 + 2 + 4 + FIELD_BYTES), int16(1), int32(FIELD_BYTES)]);
    out.write(head);
    await out.stream(() => Buffer.alloc(CHUNK, 'f'));
    return;
  }
  if (mode === 'notice-flood') {
    const notice = message('N', Buffer.from(`SNOTICE\0C00000\0M${'n'.repeat(1000)}\0\0`));
    await out.stream(() => Buffer.concat(Array.from({ length: 64 }, () => notice)));
    return;
  }
  const row = message('D', Buffer.concat([int16(3), field('15.0'), field('f'), int32(-1)]));
  let rows = 0;
  await out.stream(() => {
    if (rows >= ROWS) return undefined;
    const batch = Math.min(2000, ROWS - rows);
    rows += batch;
    return Buffer.concat(Array.from({ length: batch }, () => row));
  });
}

interface Limits {
  maxBytes: number;
  maxMs: number;
}

/** Writes with backpressure, counting, and stops at the per-connection bounds or when the client is gone. */
class Output {
  private bytes = 0;
  private readonly started = Date.now();
  constructor(
    private readonly socket: Duplex,
    private readonly limits: Limits,
    private readonly count: (bytes: number) => void,
  ) {}

  write(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    this.count(chunk.length);
    return this.socket.write(chunk);
  }

  /** Writes what next() gives until it gives nothing, a bound is reached or the socket closes. */
  async stream(next: () => Buffer | undefined): Promise<void> {
    while (!this.socket.destroyed && this.bytes < this.limits.maxBytes && Date.now() - this.started < this.limits.maxMs) {
      const chunk = next();
      if (chunk === undefined) return;
      if (!this.write(chunk)) await drained(this.socket);
      // Lets the test's own event loop run between chunks: it times the daemon's answers.
      else await new Promise((resolve) => setImmediate(resolve));
    }
    this.socket.destroy();
  }
}

function drained(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** The first message a client sends has no type byte: int32 length (itself included), then the body. */
function readStartup(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = buffered.readInt32BE(0);
      if (length < 8 || length > 10_000) finish(new Error(`startup length ${length}`));
      else if (buffered.length >= length) finish(undefined, buffered.subarray(4, length));
    };
    const onClose = () => {
      finish(new Error('closed before startup'));
    };
    const finish = (err?: Error, body?: Buffer) => {
      stream.off('data', onData);
      stream.off('close', onClose);
      if (body !== undefined) resolve(body);
      else reject(err ?? new Error('no startup'));
    };
    stream.on('data', onData);
    stream.on('close', onClose);
  });
}

/** Resolves at the client's next bytes (its query), or when it hangs up. */
function nextData(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('data', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('data', done);
    stream.on('close', done);
  });
}

function startupParameters(body: Buffer): Map<string, string> {
  const parts = body.subarray(4).toString('utf8').split('\0');
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const key = parts[i];
    const value = parts[i + 1];
    if (key && value !== undefined) params.set(key, value);
  }
  return params;
}

/** AuthenticationOk, the facts a server announces, then ReadyForQuery (idle). */
function ready(): Buffer {
  const parameter = (name: string, value: string) => message('S', Buffer.from(`${name}\0${value}\0`));
  return Buffer.concat([message('R', int32(0)), parameter('server_version', '15.0'), parameter('client_encoding', 'UTF8'), message('K', Buffer.concat([int32(4242), int32(1)])), message('Z', Buffer.from('I'))]);
}

/** The three text columns of the check's status query: version, in_recovery, lag_seconds. */
function rowDescription(): Buffer {
  const column = (name: string, oid: number) => Buffer.concat([Buffer.from(`${name}\0`), int32(0), int16(0), int32(oid), int16(-1), int32(-1), int16(0)]);
  return message('T', Buffer.concat([int16(3), column('version', 25), column('in_recovery', 16), column('lag_seconds', 701)]));
}

function errorResponse(code: string, text: string): Buffer {
  return message('E', Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`));
}

export function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([header(type, body.length + 4), body]);
}

/** A type byte and a declared length (which counts itself, not the type byte): whatever the body really is. */
export function header(type: string, declared: number): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(declared, 1);
  return head;
}

function field(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([int32(bytes.length), bytes]);
}

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
