import { EXPECTED_RCODES } from '../checks/dns-judge.js';
import { RECORD_TYPES } from '../net/dns-answer.js';
import { dnsProbe, type DnsProbe } from './blackbox-config.js';
import { acceptPatterns, sortUnknownKeys, unknownKeys, type Translation } from './blackbox-translation.js';

const RR_KEYS = [
  ['validate_answer_rrs', 'answerRrs'],
  ['validate_authority_rrs', 'authorityRrs'],
  ['validate_additional_rrs', 'additionalRrs'],
] as const;
const RR_RULES = [
  ['fail_if_matches_regexp', 'failIfMatches'],
  ['fail_if_all_match_regexp', 'failIfAllMatch'],
  ['fail_if_not_matches_regexp', 'failIfNotMatches'],
  ['fail_if_none_matches_regexp', 'failIfNoneMatches'],
] as const;

/** A blackbox dns module (with query_name) as the fields of a dns check; what it cannot say goes to `out`. */
export function translateDns(dns: DnsProbe & { query_name: string }, out: Translation): Record<string, unknown> {
  const check: Record<string, unknown> = { query: dns.query_name, resolvers: ['127.0.0.1:53'] };
  const type = (dns.query_type ?? 'ANY').toUpperCase();
  const record = RECORD_TYPES.find((t) => t === type);
  if (record) check.record = record;
  else out.refused.push(`query_type ${type}: driftwatch asks for ${RECORD_TYPES.join(', ')}; another question gets other answers`);
  if (dns.transport_protocol === 'tcp') check.transport = 'tcp';
  if (dns.recursion_desired === false) out.refused.push('recursion_desired: false: driftwatch always asks for recursion, and a recursive answer can differ');
  const expect: Record<string, unknown> = {};
  const rcodes = dns.valid_rcodes ?? ['NOERROR'];
  const rcode = EXPECTED_RCODES.find((r) => r === rcodes[0]?.toUpperCase());
  if (rcodes.length === 1 && rcode) expect.rcode = rcode;
  else if (rcodes.length === 1) out.refused.push(`valid_rcodes ${rcodes.join(', ')}: not an rcode a dns check expects (${EXPECTED_RCODES.join(', ')})`);
  else out.refused.push(`valid_rcodes ${rcodes.join(', ')}: a dns check expects one rcode`);
  for (const [theirs, ours] of RR_KEYS) {
    const rules = dns[theirs];
    if (!rules) continue;
    const patterns: Record<string, string[]> = {};
    for (const [from, to] of RR_RULES) {
      const list = rules[from] ?? [];
      if (list.length > 0 && acceptPatterns(out, `${theirs}.${from}`, list)) patterns[to] = list;
    }
    sortUnknownKeys(out, `${theirs}.`, Object.keys(rules).filter((k) => !RR_RULES.some(([from]) => from === k)));
    if (Object.keys(patterns).length > 0) expect[ours] = patterns;
  }
  if (Object.keys(expect).length > 0) check.expect = expect;
  out.notes.push('the module target is the name server (resolvers); a NOERROR answer without records passes in blackbox but fails a driftwatch dns check (it expects records)');
  // Resolvers are IPs in driftwatch: the family preference picks nothing, so it is no loss.
  sortUnknownKeys(out, '', unknownKeys(dns, dnsProbe));
  return check;
}
