import type { Answer } from 'dns-packet';
import { formatRecord, fqdn, type RecordType } from './dns-answer.js';

/*
 * Which records of an answer section answer the question: those owned by the question's name or
 * by a name its CNAMEs lead to, as a stub resolver (glibc's getaddrinfo) takes them. A record for
 * any other name is ignored, whatever its type: a reply to hub.example.com holding only
 * `evil.attacker.test A 203.0.113.10` gives applications no address, so it must not pass a check.
 */

/** CNAME hops followed from the question's name; a longer chain is a broken answer. */
export const MAX_CNAME_HOPS = 8;
/** Records for other names kept as text per answer, and the length of each: enough to name them. */
export const MAX_IGNORED = 5;
const MAX_IGNORED_LENGTH = 200;

export interface Chain {
  /** The question's name, then each CNAME target followed (lower case, final dot). */
  names: string[];
  /** The answer's records owned by a name of the chain (or a DNAME above one), class IN. */
  records: Answer[];
  /** The first records for other names as `owner. TYPE data`, each cut to a readable length. */
  ignored: string[];
  /** How many records were ignored, also past those kept as text. */
  ignoredRrs: number;
  /** Why the chain has no end: a CNAME loop, or more than MAX_CNAME_HOPS hops. */
  problem?: string;
}

/**
 * Follows the CNAME chain from `name` through the answer section and sorts the records into
 * those on it and those ignored. A CNAME question's answer is the question name's own CNAME
 * (the caller picks it); the chain after it is only told apart from strays, never judged.
 */
export function followChain(name: string, record: RecordType, answers: readonly Answer[]): Chain {
  const names = [fqdn(name)];
  const cnames = new Map<string, string>();
  for (const rr of answers) {
    if (rr.type === 'CNAME' && isIn(rr) && !cnames.has(fqdn(rr.name))) cnames.set(fqdn(rr.name), fqdn(rr.data));
  }
  let problem: string | undefined;
  for (let next = cnames.get(names[0] ?? ''); next !== undefined; next = cnames.get(next)) {
    if (names.includes(next)) {
      problem = `CNAME loop: ${[...names, next].join(' -> ')}`;
      break;
    }
    if (names.length > MAX_CNAME_HOPS) {
      problem = `CNAME chain longer than ${MAX_CNAME_HOPS} hops: ${names.join(' -> ')} -> ...`;
      break;
    }
    names.push(next);
  }
  if (record === 'CNAME') problem = undefined;
  const onChain = new Set(names);
  const records: Answer[] = [];
  const stray: Answer[] = [];
  for (const rr of answers) {
    if (rr.type === 'OPT') continue;
    const owner = fqdn(rr.name);
    if (isIn(rr) && (onChain.has(owner) || (synthesises(rr) && names.some((n) => n.endsWith(`.${owner}`))))) records.push(rr);
    else stray.push(rr);
  }
  return { names, records, ignored: stray.slice(0, MAX_IGNORED).map(describeRecord), ignoredRrs: stray.length, ...(problem !== undefined && { problem }) };
}

/** A DNAME (RFC 6672) above a name of the chain, or its signature, comes with the CNAME it implies. */
function synthesises(rr: Answer): boolean {
  return rr.type === 'DNAME' || (rr.type === 'RRSIG' && rr.data.typeCovered === 'DNAME');
}

function isIn(rr: Answer): boolean {
  return rr.type !== 'OPT' && (rr.class ?? 'IN') === 'IN';
}

/** `evil.attacker.test. A 203.0.113.10`, cut to MAX_IGNORED_LENGTH characters. */
function describeRecord(rr: Answer): string {
  const data = rr.type === 'OPT' ? undefined : formatRecord(rr);
  const klass = rr.type !== 'OPT' && rr.class !== undefined && rr.class !== 'IN' ? ` ${rr.class}` : '';
  const text = `${fqdn(rr.name)}${klass} ${rr.type}${data === undefined ? '' : ` ${data}`}`;
  return text.length > MAX_IGNORED_LENGTH ? `${text.slice(0, MAX_IGNORED_LENGTH - 1)}…` : text;
}

/** "a, b and 3 more": the ignored records for a message. */
export function describeIgnored(ignored: readonly string[], ignoredRrs: number): string {
  const more = ignoredRrs - ignored.length;
  return `${ignored.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
