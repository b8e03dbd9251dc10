/**
 * A tiny authoritative DNS server for the local demo: A records from a mutable map, over UDP
 * and TCP on one loopback port, with no system packages (the demo must run on a bare machine;
 * the test suite uses real Knot instead). Names not in the map answer NXDOMAIN; other record
 * types of a known name answer NODATA.
 */
import { AUTHORITATIVE_ANSWER, decode, encode, type DecodedPacket } from 'dns-packet';
import { listenDns } from './dns-wire.js';

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

  const server = await listenDns(host, options.port, answer);
  return {
    address: host.includes(':') ? `[${host}]:${server.port}` : `${host}:${server.port}`,
    host,
    port: server.port,
    set,
    close: server.close,
  };
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
