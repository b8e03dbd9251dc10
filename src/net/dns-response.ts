import { AUTHORITATIVE_ANSWER, type DecodedPacket, type Question } from 'dns-packet';
import { formatRecord, formatRrLine, fqdn, type RecordType } from './dns-answer.js';
import { followChain } from './dns-chain.js';

// Reading a decoded response: does it answer the question asked, and what does it say about it.

export type Transport = 'udp' | 'tcp';

export interface WireRecord {
  value: string;
  ttl: number;
}

export interface WireResponse {
  rcode: string;
  /** The AA flag: the server answered from a zone it is authoritative for. */
  authoritative: boolean;
  /** Records of the queried type on the question's CNAME chain, normalised (see formatRecord). */
  records: WireRecord[];
  /** The CNAME targets followed from the question's name (lower case, final dot). */
  cnames: string[];
  /** Answer records for names off the chain, as text (a few, cut), and how many there were. */
  ignored: string[];
  ignoredRrs: number;
  /** Why the CNAME chain has no end (a loop, too many hops): no usable answer. */
  chainProblem?: string;
  /** The section counts as on the wire, as blackbox counts them (records for other names too). */
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
  /**
   * Every record of each section in miekg/dns's text form (see formatRrLine), for the RR regexes:
   * the whole sections, records for other names included, as blackbox_exporter matches them.
   */
  sections: { answer: string[]; authority: string[]; additional: string[] };
}

/** The connect and request phases of a query, summed over its exchanges. */
export interface Timing {
  connectMs: number;
  requestMs: number;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
const MAX_NAME_SHOWN = 255;

/** dns-packet decodes the header rcode but its types omit it; the low 4 bits of flags hold it. */
export function rcodeOf(packet: DecodedPacket): string {
  const code = (packet.flags ?? 0) & 0xf;
  return RCODES[code] ?? `RCODE_${code}`;
}

/**
 * Why a response does not answer the question asked (its echoed question has another name, type
 * or class, or there is none), or undefined when it does. Names compare case-insensitively
 * (RFC 4343). Only an error answer (FORMERR, SERVFAIL, NOTIMP, REFUSED) may come without the
 * question: a server that could not parse the query has none to echo, and such an answer can
 * pass nothing but an expected rcode.
 */
export function questionMismatch(packet: DecodedPacket, name: string, record: RecordType): string | undefined {
  const asked = showQuestion({ name, type: record, class: 'IN' });
  const questions = packet.questions ?? [];
  const [echoed] = questions;
  if (echoed === undefined) {
    const rcode = rcodeOf(packet);
    return rcode === 'NOERROR' || rcode === 'NXDOMAIN' ? `answered without echoing the question, asked ${asked}` : undefined;
  }
  if (questions.length > 1) return `answered ${questions.length} questions, asked one: ${asked}`;
  if (fqdn(echoed.name) === fqdn(name) && echoed.type === record && (echoed.class ?? 'IN') === 'IN') return undefined;
  return `answered the question ${showQuestion(echoed)}, asked ${asked}`;
}

function showQuestion(question: Question): string {
  const name = fqdn(question.name);
  return `"${name.length > MAX_NAME_SHOWN ? `${name.slice(0, MAX_NAME_SHOWN)}…` : name} ${question.type} ${question.class ?? 'IN'}"`;
}

/** What a response says about the question: the records on its CNAME chain, the others set aside. */
export function summarise(packet: DecodedPacket, name: string, record: RecordType, transport: Transport, timing: Timing): WireResponse {
  const answers = packet.answers ?? [];
  const chain = followChain(name, record, answers);
  const records: WireRecord[] = [];
  let serial: number | undefined;
  const [question] = chain.names;
  for (const answer of chain.records) {
    // A CNAME question is answered by the question name's CNAME, not by those after it.
    if (answer.type !== record || (record === 'CNAME' && fqdn(answer.name) !== question)) continue;
    const value = formatRecord(answer);
    if (value !== undefined) records.push({ value, ttl: 'ttl' in answer ? (answer.ttl ?? 0) : 0 });
    if (answer.type === 'SOA') serial ??= answer.data.serial;
  }
  const additionals = (packet.additionals ?? []).filter((a) => a.type !== 'OPT');
  const lines = (section: DecodedPacket['answers']) => (section ?? []).flatMap((rr) => formatRrLine(rr) ?? []);
  return {
    rcode: rcodeOf(packet),
    authoritative: ((packet.flags ?? 0) & AUTHORITATIVE_ANSWER) !== 0,
    records,
    cnames: chain.names.slice(1),
    ignored: chain.ignored,
    ignoredRrs: chain.ignoredRrs,
    ...(chain.problem !== undefined && { chainProblem: chain.problem }),
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
