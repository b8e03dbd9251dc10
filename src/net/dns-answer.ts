import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import type { Answer } from 'dns-packet';

/** The record types the dns check speaks. */
export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'MX', 'SRV', 'CAA', 'SOA'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/*
 * One text form per record, shared by answers off the wire, answers of the system resolver and
 * the expectations of check files, so that comparing them is comparing strings.
 */

/**
 * One record as the check compares it: canonical IPs, lower-case names with the final dot,
 * `10 mail.example.` (MX), `prio weight port target.` (SRV), TXT strings joined,
 * `0 issue "letsencrypt.org"` (CAA).
 */
export function formatRecord(answer: Answer): string | undefined {
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return canonicalIp(answer.data) ?? answer.data;
    case 'CNAME':
    case 'NS':
      return fqdn(answer.data);
    case 'MX':
      return formatMx(answer.data.preference ?? 0, answer.data.exchange);
    case 'SRV':
      return formatSrv(answer.data.priority ?? 0, answer.data.weight ?? 0, answer.data.port, answer.data.target);
    case 'TXT': {
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      return parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
    }
    case 'CAA':
      return formatCaa(answer.data.flags ?? 0, answer.data.tag, answer.data.value);
    case 'SOA': {
      const d = answer.data;
      return formatSoa(d.mname, d.rname, [d.serial, d.refresh, d.retry, d.expire, d.minimum].map((n) => n ?? 0));
    }
    default:
      return undefined;
  }
}

/** `ns.example. hostmaster.example. serial refresh retry expire minimum`, as zone files write it. */
export function formatSoa(mname: string, rname: string, numbers: readonly number[]): string {
  return [fqdn(mname), fqdn(rname), ...numbers].join(' ');
}

/**
 * A record as blackbox's DNS regexes see it (miekg/dns RR.String()): `name.<TAB>ttl<TAB>IN<TAB>
 * TYPE<TAB>data`, TXT strings quoted; undefined for the EDNS OPT pseudo-record, which is no RR.
 */
export function formatRrLine(answer: Answer): string | undefined {
  if (answer.type === 'OPT') return undefined;
  const head = `${answer.name === '.' || answer.name === '' ? '' : answer.name}.\t${answer.ttl ?? 0}\t${answer.class ?? 'IN'}\t${answer.type}`;
  if (answer.type === 'TXT') {
    const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
    return `${head}\t${parts.map((part) => JSON.stringify(typeof part === 'string' ? part : part.toString('utf8'))).join(' ')}`;
  }
  const data = formatRecord(answer);
  return data === undefined ? head : `${head}\t${data}`;
}

export function formatMx(preference: number, exchange: string): string {
  return `${preference} ${fqdn(exchange)}`;
}

export function formatSrv(priority: number, weight: number, port: number, target: string): string {
  return `${priority} ${weight} ${port} ${fqdn(target)}`;
}

export function formatCaa(flags: number, tag: string, value: string): string {
  return `${flags} ${tag.toLowerCase()} "${value}"`;
}

/** A name in the form answers use: lower case, with the final dot ("." for the root). */
export function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** A dotted quad without leading zeros: already the canonical text of its IPv4 address. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The canonical text of an IP address (`::1` for `0:0:0:0:0:0:0:1`); undefined if not an IP. An
 * A record's address, as dns-packet decodes it, is canonical already: it is given back without a
 * SocketAddress (and Node 20's isIPv6 pattern), which cost a DNS run about 4 % of its CPU.
 */
export function canonicalIp(text: string): string | undefined {
  if (CANONICAL_IPV4.test(text)) return text;
  try {
    return new SocketAddress({ address: text, family: isIPv6(text) ? 'ipv6' : 'ipv4' }).address;
  } catch {
    return undefined;
  }
}

const HOST = /^[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

/**
 * An expected answer from a check file in the form answers take (`10 MAIL.example` becomes
 * `10 mail.example.`), or undefined when it cannot be an answer of that type.
 */
export function normaliseExpected(record: RecordType, value: string): string | undefined {
  const text = value.trim();
  switch (record) {
    case 'A':
      return isIPv4(text) ? canonicalIp(text) : undefined;
    case 'AAAA':
      return isIPv6(text) ? canonicalIp(text) : undefined;
    case 'CNAME':
    case 'NS':
      return HOST.test(text) ? fqdn(text) : undefined;
    case 'MX': {
      const m = /^(\d{1,5})\s+(\S+)$/.exec(text);
      return m?.[1] && m[2] && HOST.test(m[2]) ? formatMx(Number(m[1]), m[2]) : undefined;
    }
    case 'SRV': {
      const m = /^(\d{1,5})\s+(\d{1,5})\s+(\d{1,5})\s+(\S+)$/.exec(text);
      return m?.[1] && m[2] && m[3] && m[4] && HOST.test(m[4]) ? formatSrv(Number(m[1]), Number(m[2]), Number(m[3]), m[4]) : undefined;
    }
    case 'CAA': {
      const m = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+"?([^"]*)"?$/.exec(text);
      return m?.[1] && m[2] && m[3] !== undefined ? formatCaa(Number(m[1]), m[2], m[3]) : undefined;
    }
    case 'TXT':
      return value;
    case 'SOA': {
      const m = /^(\S+)\s+(\S+)((?:\s+\d{1,10}){5})$/.exec(text);
      return m?.[1] && m[2] && m[3] && HOST.test(m[1]) && HOST.test(m[2]) ? formatSoa(m[1], m[2], m[3].trim().split(/\s+/).map(Number)) : undefined;
    }
  }
}
