import { lookup, Resolver } from 'node:dns/promises';
import { errorCode } from '../results/classify.js';
import type { EndSignal } from '../results/end-signal.js';
import { DnsError } from './dns-query.js';
import { LinkedEnd } from './linked-end.js';

/*
 * The `system` resolver: what the host's applications see. Addresses come from getaddrinfo
 * (/etc/hosts, nsswitch and glibc's stub resolver, which takes only records on the question's
 * CNAME chain). Other types are asked of the name servers in /etc/resolv.conf by our own client
 * (dns-query.ts), not by Node's Resolver: c-ares (1.34.6 in Node 20.20) hands back records of the
 * type for any owner name, so `evil.attacker.test TXT` would pass as the question's answer.
 */

/** getaddrinfo's error codes that are really an answer (no such name, no address), not a failure to get one. */
const RCODE_OF_CODE: Record<string, string> = { ENOTFOUND: 'NXDOMAIN', ENODATA: 'NOERROR' };

export interface SystemLookup {
  rcode: string;
  addresses: string[];
}

/** getaddrinfo, like `getent ahosts`; getaddrinfo cannot be cancelled, so the wait stops at the deadline. */
export async function lookupSystem(name: string, family: 4 | 6, options: { signal: EndSignal; timeoutMs: number }): Promise<SystemLookup> {
  try {
    const found = await withDeadline(lookup(name, { all: true, family }), options);
    return { rcode: 'NOERROR', addresses: found.map((entry) => entry.address) };
  } catch (err) {
    const code = errorCode(err);
    // getaddrinfo says ENOTFOUND for NXDOMAIN, NODATA and an answer with no record for the name alike; it is reported as NXDOMAIN.
    const rcode = code === undefined ? undefined : RCODE_OF_CODE[code];
    if (rcode === undefined) throw err;
    return { rcode, addresses: [] };
  }
}

/**
 * The name servers of /etc/resolv.conf as c-ares lists them (`IP`, `IP:port`, `[IPv6]:port`),
 * read afresh: a new Resolver reads the file, so an edited resolv.conf counts from the next run.
 */
export function systemServers(): string[] {
  return new Resolver().getServers();
}

/** `work`, waited for until the caller's end or `timeoutMs` (linked-end.ts): whichever comes first. */
async function withDeadline<T>(work: Promise<T>, options: { signal: EndSignal; timeoutMs: number }): Promise<T> {
  const end = new LinkedEnd(options.signal, { ms: options.timeoutMs, expired: () => new DnsError('ETIMEOUT', `no answer within ${Math.round(options.timeoutMs)}ms`) });
  try {
    return await end.race(work, () => new DnsError('ETIMEOUT', 'query aborted'));
  } finally {
    end.dispose();
  }
}
