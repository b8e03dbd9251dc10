import { parseDuration } from '../config/duration.js';
import { EXPECTED_RCODES } from '../checks/dns.js';
import { RECORD_TYPES } from '../net/dns-answer.js';
import { unknownKeys, blackboxModule, dnsProbe, tcpProbe, type BlackboxModule, type DnsProbe, type TcpProbe } from './blackbox-config.js';
import { translateHttp } from './blackbox-http.js';

/** What became of one module: the check (absent when nothing could be translated) and the report lines. */
export interface Translation {
  module: string;
  check?: Record<string, unknown>;
  /** Parts of the module left out, each with why. */
  untranslated: string[];
  /** Things the user must know or do (secrets to set, different defaults). */
  notes: string[];
}

/*
 * An imported check is a template for /probe?module=NAME&target=...: its own target is a
 * placeholder under .invalid (never resolves), it runs once a day on its own, and callers may
 * point it only at the --allow-target patterns given.
 */
const PLACEHOLDER_HOST = 'target.invalid';

/** blackbox module names (http_2xx) as check names (http-2xx); /probe?module=http_2xx finds them. */
export function checkNameOf(module: string): string {
  const name = module.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return name === '' ? 'module' : name;
}

/** An environment variable name for a module's secret: BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD. */
export function envName(module: string, what: string): string {
  return `BLACKBOX_${module}_${what}`.toUpperCase().replace(/[^A-Z0-9_]+/g, '_');
}

/** preferred_ip_protocol with blackbox's defaults (ip6, falling back to ip4), spelt as driftwatch keys. */
export function ipProtocolOf(probe: { preferred_ip_protocol?: string | undefined; ip_protocol_fallback?: boolean | undefined }): Record<string, unknown> {
  const ipProtocol = probe.preferred_ip_protocol === 'ip4' || probe.preferred_ip_protocol === 'ipv4' ? 'ip4' : 'ip6';
  return { ipProtocol, ...(probe.ip_protocol_fallback === false && { ipProtocolFallback: false }) };
}

export function translateModule(module: string, raw: BlackboxModule, allowTargets: readonly string[]): Translation {
  const out: Translation = { module, untranslated: [], notes: [] };
  const base: Record<string, unknown> = { name: checkNameOf(module), description: `imported from blackbox_exporter module ${module}`, interval: '24h' };
  if (raw.timeout !== undefined) {
    const ms = parseDuration(raw.timeout);
    if (ms === undefined) out.untranslated.push(`timeout ${raw.timeout}: not a duration driftwatch reads (default 10s kept)`);
    else base.timeout = raw.timeout;
  }
  if (allowTargets.length > 0) base.allowTargets = [...allowTargets];
  else out.notes.push('no --allow-target given: /probe?module= with a target answers 403 until allowTargets lists the targets');
  // A prober driftwatch lacks says so once, not again for its own section.
  if (['http', 'tcp', 'dns'].includes(raw.prober)) out.untranslated.push(...unknownKeys(raw, blackboxModule).map((k) => `${k}: no driftwatch equivalent`));
  switch (raw.prober) {
    case 'http':
      // Without its proxy the probe would take another path to the target: not the same check.
      if (raw.http?.proxy_url !== undefined) out.untranslated.push('proxy_url: driftwatch dials targets directly, never through a proxy; module left out');
      else out.check = { ...base, type: 'http', url: `http://${PLACEHOLDER_HOST}/`, ...translateHttp(module, raw.http ?? {}, out) };
      break;
    case 'tcp':
      Object.assign(out, translateTcp(base, raw.tcp ?? {}, out));
      break;
    case 'dns':
      if (raw.dns?.query_name === undefined) out.untranslated.push('dns without query_name: nothing to ask');
      else out.check = { ...base, type: 'dns', ...translateDns(raw.dns, out) };
      break;
    default:
      out.untranslated.push(`prober ${raw.prober}: driftwatch has no ${raw.prober} check (it has http, tcp with or without TLS, and dns)`);
  }
  return out;
}

function translateTcp(base: Record<string, unknown>, tcp: TcpProbe, out: Translation): Pick<Translation, 'check'> {
  if (tcp.query_response && tcp.query_response.length > 0) {
    out.untranslated.push('query_response: driftwatch connects (and handshakes TLS) but holds no send/expect dialogue, so banners and STARTTLS are not checked; module left out');
    return {};
  }
  out.untranslated.push(...unknownKeys(tcp, tcpProbe).map((k) => `${k}: no driftwatch equivalent`));
  const address = { host: PLACEHOLDER_HOST, port: 443, ...ipProtocolOf(tcp) };
  if (tcp.tls !== true) return { check: { ...base, type: 'tcp', ...address } };
  // A TCP connection with TLS is driftwatch's tls check; blackbox has no expiry minimum.
  const tls = tcp.tls_config ?? {};
  out.untranslated.push(...unknownKeys(tls, { shape: { insecure_skip_verify: 0, ca_file: 0, server_name: 0 } }).map((k) => `tls_config.${k}: not supported`));
  return {
    check: {
      ...base,
      type: 'tls',
      ...address,
      ...(tls.ca_file !== undefined && { ca: tls.ca_file }),
      ...(tls.server_name !== undefined && { serverName: tls.server_name }),
      expect: { minDaysValid: 0, ...(tls.insecure_skip_verify === true && { chainVerifies: false }) },
    },
  };
}

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

function translateDns(dns: DnsProbe, out: Translation): Record<string, unknown> {
  const check: Record<string, unknown> = { query: dns.query_name, resolvers: ['127.0.0.1:53'] };
  const type = (dns.query_type ?? 'ANY').toUpperCase();
  const record = RECORD_TYPES.find((t) => t === type);
  if (record) check.record = record;
  else out.untranslated.push(`query_type ${type}: driftwatch asks for ${RECORD_TYPES.join(', ')} (A kept)`);
  if (dns.transport_protocol === 'tcp') check.transport = 'tcp';
  if (dns.recursion_desired === false) out.untranslated.push('recursion_desired: false: driftwatch always asks for recursion');
  const expect: Record<string, unknown> = {};
  const rcodes = dns.valid_rcodes ?? ['NOERROR'];
  const rcode = EXPECTED_RCODES.find((r) => r === rcodes[0]?.toUpperCase());
  if (rcodes.length === 1 && rcode) expect.rcode = rcode;
  else if (rcodes.length === 1) out.untranslated.push(`valid_rcodes ${rcodes.join(', ')}: not an rcode a dns check expects (${EXPECTED_RCODES.join(', ')})`);
  else out.untranslated.push(`valid_rcodes ${rcodes.join(', ')}: a dns check expects one rcode (NOERROR kept)`);
  for (const [theirs, ours] of RR_KEYS) {
    const rules = dns[theirs];
    if (!rules) continue;
    const patterns: Record<string, string[]> = {};
    for (const [from, to] of RR_RULES) if (rules[from]?.length) patterns[to] = rules[from];
    if (Object.keys(patterns).length > 0) expect[ours] = patterns;
  }
  if (Object.keys(expect).length > 0) check.expect = expect;
  out.notes.push('the module target is the name server (resolvers); a NOERROR answer without records passes in blackbox but fails a driftwatch dns check (it expects records)');
  out.untranslated.push(...unknownKeys(dns, dnsProbe).map((k) => `${k}: no driftwatch equivalent`));
  // Resolvers are IPs in driftwatch: the family preference picks nothing.
  return check;
}
