/**
 * A DNS server that lies on purpose, on one loopback port over UDP and TCP: each query is
 * answered as HOSTILE_ZONE (or a test's own responder) says, with records for other names,
 * CNAME chains, loops, and questions echoed with another name, type or class. Knot cannot be
 * told to answer this way, so this is raw DNS from node:dgram, node:net and dns-packet. Every
 * address it hands out is on loopback (127.0.0.2 plays the ingress, 127.0.0.3 the attacker's
 * host), so a client that follows a stray record still stays on this machine.
 */
import { AUTHORITATIVE_ANSWER, decode, encode, type Answer, type DecodedPacket, type Question } from 'dns-packet';
import { listenDns } from '../../examples/dns-wire.js';

export interface HostileReply {
  answers?: Answer[];
  /** The question echoed instead of the one asked; null echoes none. */
  question?: Question | null;
  /** The header's rcode (0 NOERROR by default). */
  rcode?: number;
}

/** The reply to one question; undefined answers REFUSED (a name the test did not plan for). */
export type Responder = (question: Question) => HostileReply | undefined;

export interface HostileDns {
  /** `127.0.0.1:PORT`, as a dns check's resolvers entry. */
  address: string;
  host: string;
  port: number;
  /** Queries read, per transport. */
  queries: { udp: number; tcp: number };
  close(): Promise<void>;
}

const REFUSED = 5;
const ATTACKER = '127.0.0.3';

/** `name TYPE data` records of every type the check asks for, for the owner given. */
function record(type: Question['type'], name: string, data: string): Answer {
  switch (type) {
    case 'TXT':
      return { type: 'TXT', name, ttl: 60, data };
    case 'CNAME':
      return { type: 'CNAME', name, ttl: 60, data };
    default:
      return { type: 'A', name, ttl: 60, data };
  }
}

/** A chain of `hops` CNAMEs from `name`, ending in an A record 127.0.0.2. */
function chain(name: string, hops: number): Answer[] {
  const names = [name, ...Array.from({ length: hops }, (_, i) => `h${i + 1}.chain.example.net`)];
  const cnames = names.slice(0, -1).map((owner, i) => record('CNAME', owner, names[i + 1] ?? ''));
  return [...cnames, record('A', names.at(-1) ?? name, '127.0.0.2')];
}

/**
 * The names of hostile.test and how they are answered (any type asked gets the same shape):
 * - stray: only `evil.attacker.test A 127.0.0.3` (TXT "evil" when TXT is asked);
 * - mixed: that stray record and `mixed.hostile.test A 127.0.0.2`;
 * - chain: `CHAIN.Hostile.Test CNAME lb.example.net`, `LB.EXAMPLE.NET A 127.0.0.2` (case differs);
 * - chaintail: a CNAME to lb.example.net, then only the stray record;
 * - dname: a DNAME-synthesised answer (`hostile.test DNAME`, the CNAME, the A), all legitimate;
 * - eight / nine: chains of 8 and 9 CNAMEs; loop: two CNAMEs pointing at each other;
 * - many: 40 stray records with 120-character names;
 * - type / class / name / none: the right answer, with the question echoed as AAAA, as CH, for
 *   evil.attacker.test, or not at all; caseq: echoed in upper case (a match).
 */
export const HOSTILE_ZONE: Responder = (question) => {
  const { name, type } = question;
  const stray = record(type, 'evil.attacker.test', type === 'TXT' ? 'evil' : ATTACKER);
  const own = record(type, name, type === 'TXT' ? 'good' : '127.0.0.2');
  switch (name.toLowerCase().replace(/\.hostile\.test\.?$/, '')) {
    case 'stray':
      return { answers: [stray] };
    case 'mixed':
      return { answers: [stray, own] };
    case 'chain':
      return { answers: [record('CNAME', 'CHAIN.Hostile.Test', 'lb.example.net'), record(type, 'LB.EXAMPLE.NET', type === 'TXT' ? 'good' : '127.0.0.2')] };
    case 'chaintail':
      return { answers: [record('CNAME', name, 'lb.example.net'), stray] };
    case 'x.dname':
      return { answers: [{ type: 'DNAME', name: 'dname.hostile.test', ttl: 60, data: 'other.example.net' }, record('CNAME', name, 'x.other.example.net'), record(type, 'x.other.example.net', '127.0.0.2')] };
    case 'eight':
      return { answers: chain(name, 8) };
    case 'nine':
      return { answers: chain(name, 9) };
    case 'loop':
      return { answers: [record('CNAME', name, 'back.example.net'), record('CNAME', 'back.example.net', name)] };
    case 'many':
      return { answers: Array.from({ length: 40 }, (_, i) => record('A', `${String(i).padStart(2, '0')}${'x'.repeat(60)}.${'y'.repeat(56)}.attacker.test`, ATTACKER)) };
    case 'type':
      return { answers: [own], question: { ...question, type: 'AAAA' } };
    case 'class':
      return { answers: [own], question: { ...question, class: 'CH' } };
    case 'name':
      return { answers: [own], question: { ...question, name: 'evil.attacker.test' } };
    case 'none':
      return { answers: [own], question: null };
    case 'caseq':
      return { answers: [own], question: { ...question, name: name.toUpperCase() } };
    default:
      return undefined;
  }
};

export async function startHostileDns(options: { respond?: Responder; host?: string; port?: number } = {}): Promise<HostileDns> {
  const host = options.host ?? '127.0.0.1';
  const respond = options.respond ?? HOSTILE_ZONE;
  const queries = { udp: 0, tcp: 0 };
  const answer = (transport: 'udp' | 'tcp', message: Buffer) => {
    queries[transport]++;
    return reply(message, respond);
  };
  const server = await listenDns(host, options.port, (message, transport) => answer(transport, message));
  return { address: `${host}:${server.port}`, host, port: server.port, queries, close: server.close };
}

/** The wire reply to one query; undefined for input that is not a query. */
function reply(message: Buffer, respond: Responder): Buffer | undefined {
  let query: DecodedPacket;
  try {
    query = decode(message);
  } catch {
    return undefined;
  }
  const question = query.questions?.[0];
  if (query.type !== 'query' || !question) return undefined;
  const planned = respond(question);
  const echoed = planned?.question === undefined ? [question] : planned.question === null ? [] : [planned.question];
  const rcode = planned === undefined ? REFUSED : (planned.rcode ?? 0);
  return encode({ type: 'response', id: query.id ?? 0, flags: AUTHORITATIVE_ANSWER | rcode, questions: echoed, answers: planned?.answers ?? [] });
}
