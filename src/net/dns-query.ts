import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { decode, encode, RECURSION_DESIRED, TRUNCATED_RESPONSE, type DecodedPacket } from 'dns-packet';
import { formatRecord, formatRrLine, fqdn, type RecordType } from './dns-answer.js';
import { guard } from './listener-guard.js';

export type Transport = 'udp' | 'tcp';

export interface WireQuery {
  host: string;
  port: number;
  name: string;
  record: RecordType;
  transport: Transport;
  /** Budget for the whole exchange, retries and TCP fallback included. */
  timeoutMs: number;
  signal: AbortSignal;
}

export interface WireRecord {
  value: string;
  ttl: number;
}

export interface WireResponse {
  rcode: string;
  /** Records of the queried type in the answer section, normalised (see formatRecord). */
  records: WireRecord[];
  answerRrs: number;
  authorityRrs: number;
  /** Not counting the EDNS OPT pseudo-record (blackbox, asking without EDNS, never gets one). */
  additionalRrs: number;
  /** The transport that gave this response: tcp after a truncated UDP answer. */
  transport: Transport;
  /** Setting up the socket (UDP connect, TCP handshake) and the exchange after it, summed over a TCP retry. */
  connectMs: number;
  requestMs: number;
  /** The zone serial, when the answer holds the SOA asked for. */
  serial?: number;
  /** Every record of each section in miekg/dns's text form (see formatRrLine), for the RR regexes. */
  sections: { answer: string[]; authority: string[]; additional: string[] };
}

/** The connect and request phases of a query, summed over its exchanges. */
interface Timing {
  connectMs: number;
  requestMs: number;
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

/** An error with a Node-style code, so classify.ts maps it to a reason. */
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
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/**
 * Sends one query to a resolver and reads its answer: over UDP (resent once if silent, and
 * repeated over TCP when the answer is truncated) or over TCP with the 2-byte length prefix.
 * Throws DnsError with code ETIMEOUT when no answer comes within timeoutMs.
 */
export async function queryDns(query: WireQuery): Promise<WireResponse> {
  let phase: Transport = query.transport;
  // One controller for the deadline and the caller's signal, not AbortSignal.any(): a composite
  // signal with a listener left on it is held by Node for good (with all it references).
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    const tries = phase === 'udp' ? `udp, ${UDP_TRIES} tries` : query.transport === 'udp' ? 'tcp after a truncated udp answer' : 'tcp';
    deadline.abort(new DnsError('ETIMEOUT', `no answer within ${Math.round(query.timeoutMs)}ms (${tries})`));
  }, query.timeoutMs);
  const forward = () => {
    deadline.abort(query.signal.reason);
  };
  if (query.signal.aborted) forward();
  else query.signal.addEventListener('abort', forward, { once: true });
  const signal = deadline.signal;
  try {
    const id = randomInt(0, 65536);
    const message = encode({
      type: 'query',
      id,
      flags: RECURSION_DESIRED,
      questions: [{ type: query.record, name: query.name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
    const accept = (packet: DecodedPacket) => packet.type === 'response' && packet.id === id && sameQuestion(packet, query.name);
    const timing: Timing = { connectMs: 0, requestMs: 0 };
    if (query.transport === 'udp') {
      const udp = await timed(timing, (mark) => exchangeUdp(query, message, id, accept, signal, mark));
      if (udp !== 'truncated') return summarise(udp, query.record, 'udp', timing);
      phase = 'tcp';
    }
    return summarise(await timed(timing, (mark) => exchangeTcp(query, message, accept, signal, mark)), query.record, 'tcp', timing);
  } catch (err) {
    // The deadline's reason is the readable timeout; the outer signal's reason belongs to the runner.
    if (deadline.signal.aborted && !query.signal.aborted) throw deadline.signal.reason;
    throw describeFailure(err, phase);
  } finally {
    clearTimeout(timer);
    query.signal.removeEventListener('abort', forward);
  }
}

/** Socket errors say `recvmsg ECONNREFUSED`; say it the way dig does, keeping the code. */
function describeFailure(err: unknown, transport: Transport): unknown {
  if (err instanceof DnsError || !(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return err;
  const what = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message.replace(` ${err.code}`, '');
  return new DnsError(err.code, `${what} over ${transport} (${err.code})`);
}

type Accept = (packet: DecodedPacket) => boolean;

/** A truncated answer may end mid-record, so it is recognised from its header alone. */
async function exchangeUdp(query: WireQuery, message: Buffer, id: number, accept: Accept, signal: AbortSignal, mark: Mark): Promise<DecodedPacket | 'truncated'> {
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
          if (packet === undefined) reject(new DnsError('EBADRESP', `malformed answer from ${query.host}:${query.port}`));
          else if (accept(packet)) resolve(packet);
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
async function exchangeTcp(query: WireQuery, message: Buffer, accept: Accept, signal: AbortSignal, mark: Mark): Promise<DecodedPacket> {
  signal.throwIfAborted();
  const socket = connect({ host: query.host, port: query.port });
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
      socket.once('connect', () => {
        mark.connectedAt = performance.now();
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on('data', guard(reject, (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2) return;
        const size = received.readUInt16BE(0);
        if (received.length < 2 + size) return;
        const packet = decodeOrUndefined(received.subarray(2, 2 + size));
        if (packet === undefined || !accept(packet)) reject(new DnsError('EBADRESP', `malformed or mismatched answer from ${query.host}:${query.port} over TCP`));
        else resolve(packet);
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

function abortReason(signal: AbortSignal): Error {
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

function sameQuestion(packet: DecodedPacket, name: string): boolean {
  const question = packet.questions?.[0];
  return question !== undefined && fqdn(question.name) === fqdn(name);
}

function summarise(packet: DecodedPacket, record: RecordType, transport: Transport, timing: Timing): WireResponse {
  const answers = packet.answers ?? [];
  const records: WireRecord[] = [];
  let serial: number | undefined;
  for (const answer of answers) {
    if (answer.type !== record) continue;
    const value = formatRecord(answer);
    if (value !== undefined) records.push({ value, ttl: 'ttl' in answer ? (answer.ttl ?? 0) : 0 });
    if (answer.type === 'SOA') serial ??= answer.data.serial;
  }
  const additionals = (packet.additionals ?? []).filter((a) => a.type !== 'OPT');
  const lines = (section: DecodedPacket['answers']) => (section ?? []).flatMap((rr) => formatRrLine(rr) ?? []);
  return {
    // dns-packet decodes the header rcode but its types omit it; the low 4 bits of flags hold it.
    rcode: RCODES[(packet.flags ?? 0) & 0xf] ?? `RCODE_${(packet.flags ?? 0) & 0xf}`,
    records,
    answerRrs: answers.length,
    authorityRrs: packet.authorities?.length ?? 0,
    additionalRrs: additionals.length,
    transport,
    connectMs: timing.connectMs,
    requestMs: timing.requestMs,
    ...(serial !== undefined && { serial }),
    sections: { answer: lines(answers), authority: lines(packet.authorities), additional: lines(additionals) },
  };
}
