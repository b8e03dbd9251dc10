import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decode, encode, RECURSION_DESIRED, TRUNCATED_RESPONSE, type DecodedPacket } from 'dns-packet';
import type { RecordType } from './dns-answer.js';
import { questionMismatch, summarise, type Timing, type Transport, type WireResponse } from './dns-response.js';
import { guard } from './listener-guard.js';
import { LinkedEnd } from './linked-end.js';
import { plainConnect } from './plain-connect.js';
import type { EndSignal } from '../results/end-signal.js';

export type { Transport, WireRecord, WireResponse } from './dns-response.js';

export interface WireQuery {
  host: string;
  port: number;
  name: string;
  record: RecordType;
  transport: Transport;
  /** Budget for the whole exchange, retries and TCP fallback included. */
  timeoutMs: number;
  /** The caller's end (the run's deadline, or an AbortSignal). */
  signal: EndSignal;
  /** false asks without recursion (RD=0), as one asks a zone's own name servers; default true. */
  recursionDesired?: boolean;
}

/** Set by an exchange when its socket is set up. */
interface Mark {
  connectedAt?: number;
}

async function timed<T>(timing: Timing, exchange: (mark: Mark) => Promise<T>): Promise<T> {
  const started = performance.now();
  const mark: Mark = {};
  const result = await exchange(mark);
  const connectedAt = mark.connectedAt ?? started;
  timing.connectMs += connectedAt - started;
  timing.requestMs += performance.now() - connectedAt;
  return result;
}

/** An error with a Node-style code, so results/classify.ts maps it to a reason. */
export class DnsError extends Error {
  override name = 'DnsError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const UDP_TRIES = 2;
// Big enough for most RRsets, small enough to avoid IP fragmentation (DNS flag day 2020).
const EDNS_PAYLOAD = 1232;

/**
 * Sends one query to a resolver and reads its answer: over UDP (resent once if silent, and
 * repeated over TCP when the answer is truncated) or over TCP with the 2-byte length prefix.
 * Throws DnsError with code ETIMEOUT when no answer comes within timeoutMs.
 */
export async function queryDns(query: WireQuery): Promise<WireResponse> {
  let phase: Transport = query.transport;
  // The query's time limit inside the caller's: one timer, no AbortSignal (linked-end.ts).
  const signal = new LinkedEnd(query.signal, {
    ms: query.timeoutMs,
    expired: () => {
      const tries = phase === 'udp' ? `udp, ${UDP_TRIES} tries` : query.transport === 'udp' ? 'tcp after a truncated udp answer' : 'tcp';
      return new DnsError('ETIMEOUT', `no answer within ${Math.round(query.timeoutMs)}ms (${tries})`);
    },
  });
  try {
    const id = randomInt(0, 65536);
    const message = encode({
      type: 'query',
      id,
      flags: query.recursionDesired === false ? 0 : RECURSION_DESIRED,
      questions: [{ type: query.record, name: query.name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
    const accept: Accept = (packet) => {
      if (packet.type !== 'response' || packet.id !== id) return 'not ours';
      const mismatch = questionMismatch(packet, query.name, query.record);
      return mismatch === undefined ? 'ours' : new DnsError('EBADRESP', `${query.host}:${query.port} ${mismatch} (over ${phase})`);
    };
    const timing: Timing = { connectMs: 0, requestMs: 0 };
    if (query.transport === 'udp') {
      const udp = await timed(timing, (mark) => exchangeUdp(query, message, id, accept, signal, mark));
      if (udp !== 'truncated') return summarise(udp, query.name, query.record, 'udp', timing);
      phase = 'tcp';
    }
    const tcp = await timed(timing, (mark) => exchangeTcp(query, message, accept, signal, mark));
    return summarise(tcp, query.name, query.record, 'tcp', timing);
  } catch (err) {
    // The time limit's reason is the readable timeout; the caller's reason belongs to the runner.
    if (signal.aborted && !signal.endedByCaller) throw signal.reason;
    throw describeFailure(err, phase);
  } finally {
    signal.dispose();
  }
}

/** Socket errors say `recvmsg ECONNREFUSED`; say it the way dig does, keeping the code. */
function describeFailure(err: unknown, transport: Transport): unknown {
  if (err instanceof DnsError || !(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return err;
  const what = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message.replace(` ${err.code}`, '');
  return new DnsError(err.code, `${what} over ${transport} (${err.code})`);
}

/**
 * Whether a decoded packet is the answer to this query: `not ours` (another id, or not a
 * response) is skipped over UDP, where anyone may send a datagram; an answer echoing another
 * question is a bad answer, as a stub resolver would not take it either.
 */
type Accept = (packet: DecodedPacket) => 'ours' | 'not ours' | DnsError;

/** A truncated answer may end mid-record, so it is recognised from its header alone. */
async function exchangeUdp(query: WireQuery, message: Buffer, id: number, accept: Accept, signal: EndSignal, mark: Mark): Promise<DecodedPacket | 'truncated'> {
  const socket = createSocket(isIPv6(query.host) ? 'udp6' : 'udp4');
  let resend: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<DecodedPacket | 'truncated'>((resolve, reject) => {
      onAbort = () => {
        reject(abortReason(signal));
      };
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      // A connected socket receives ICMP port-unreachable as ECONNREFUSED instead of silence.
      socket.on('error', reject);
      socket.on(
        'message',
        guard(reject, (data: Buffer) => {
          if (data.length >= 12 && data.readUInt16BE(0) === id && (data.readUInt16BE(2) & TRUNCATED_RESPONSE) !== 0) {
            resolve('truncated');
            return;
          }
          const packet = decodeOrUndefined(data);
          if (packet === undefined) {
            reject(new DnsError('EBADRESP', `malformed answer from ${query.host}:${query.port}`));
            return;
          }
          const verdict = accept(packet);
          if (verdict === 'ours') resolve(packet);
          else if (verdict instanceof DnsError) reject(verdict);
        }),
      );
      // dgram calls this back on failure too (ENETUNREACH, EADDRNOTAVAIL): the socket is then
      // not connected, and send() without an address would throw out of the callback.
      socket.connect(query.port, query.host, guard(reject, (err?: Error) => {
        if (err) {
          reject(err);
          return;
        }
        mark.connectedAt = performance.now();
        let sent = 0;
        const send = () => {
          sent++;
          // A throw from send() (a socket closed under us) is a rejection through guard().
          socket.send(message, (sendErr) => {
            if (sendErr) reject(sendErr);
          });
          if (sent < UDP_TRIES) resend = setTimeout(guard(reject, send), query.timeoutMs / (UDP_TRIES + 1));
        };
        send();
      }));
    });
  } finally {
    clearTimeout(resend);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    socket.close();
  }
}

/**
 * No `signal` option on net.connect: net leaves its abort listener on the signal after the socket
 * closes, which kept every socket (about 7 KB a query) reachable. Our listener goes in finally.
 */
async function exchangeTcp(query: WireQuery, message: Buffer, accept: Accept, signal: EndSignal, mark: Mark): Promise<DecodedPacket> {
  if (signal.aborted) throw abortReason(signal);
  const socket = plainConnect({ host: query.host, port: query.port });
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<DecodedPacket>((resolve, reject) => {
      onAbort = () => {
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let received = Buffer.alloc(0);
      socket.on('error', (err) => {
        reject(signal.aborted ? abortReason(signal) : err);
      });
      socket.once(
        'connect',
        guard(reject, () => {
          mark.connectedAt = performance.now();
          const length = Buffer.alloc(2);
          length.writeUInt16BE(message.length);
          socket.write(Buffer.concat([length, message]));
        }),
      );
      socket.on('data', guard(reject, (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2) return;
        const size = received.readUInt16BE(0);
        if (received.length < 2 + size) return;
        const packet = decodeOrUndefined(received.subarray(2, 2 + size));
        const verdict = packet === undefined ? 'not ours' : accept(packet);
        if (packet !== undefined && verdict === 'ours') resolve(packet);
        else reject(verdict instanceof DnsError ? verdict : new DnsError('EBADRESP', `malformed or mismatched answer from ${query.host}:${query.port} over TCP`));
      }));
      socket.once('end', () => {
        reject(new DnsError('ECONNRESET', `${query.host}:${query.port} closed the TCP connection without a full answer`));
      });
    });
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

function abortReason(signal: EndSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DnsError('ETIMEOUT', 'query aborted');
}

function decodeOrUndefined(data: Buffer): DecodedPacket | undefined {
  try {
    return decode(data);
  } catch {
    return undefined;
  }
}
