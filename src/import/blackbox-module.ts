import { formatDuration } from '../config/duration.js';
import { blackboxModule, tcpProbe, type BlackboxModule, type TcpProbe } from './blackbox-config.js';
import { translateDns } from './blackbox-dns.js';
import { translateGrpc } from './blackbox-grpc.js';
import { translateHttp } from './blackbox-http.js';
import { blackboxDurationMs, emptyTranslation, ipProtocolOf, sortUnknownKeys, TLS_KEYS, unknownKeys, type Translation } from './blackbox-translation.js';

export type { Translation } from './blackbox-translation.js';

/*
 * An imported check is a template for /probe?module=NAME&target=...: its own target is a
 * placeholder under .invalid (never resolves), it runs once a day on its own, and callers may
 * point it only at the --allow-target patterns given.
 */
const PLACEHOLDER_HOST = 'target.invalid';

/** Sections of the other probers: blackbox ignores them in a module of this prober, and so may driftwatch. */
const OTHER_PROBERS: Readonly<Record<string, string>> = {
  icmp: 'a section for the icmp prober, which this module does not use',
  grpc: 'a section for the grpc prober, which this module does not use',
};

/** Why an icmp module is left out, and what to use instead. */
export const ICMP_REFUSAL =
  'prober icmp: driftwatch sends no ICMP echo (it needs raw sockets, CAP_NET_RAW, and says nothing about a service); the nearest equivalent is a tcp check on a port the host serves (type: tcp, host, port: 22 or 443), which fails as an unreachable host does, but also when only that port is closed';

/** blackbox module names (http_2xx) as check names (http-2xx); /probe?module=http_2xx finds them. */
export function checkNameOf(module: string): string {
  const name = module.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return name === '' ? 'module' : name;
}

/** One module as a check, or left out with every reason why; the check is absent whenever a reason is. */
export function translateModule(module: string, raw: BlackboxModule, allowTargets: readonly string[]): Translation {
  const out = emptyTranslation(module);
  const base: Record<string, unknown> = { name: checkNameOf(module), description: `imported from blackbox_exporter module ${module}`, interval: '24h' };
  if (raw.timeout !== undefined) {
    const ms = blackboxDurationMs(raw.timeout);
    if (ms === undefined) out.refused.push(`timeout ${raw.timeout}: not a duration (blackbox reads 5s, 1m30s)`);
    else if (ms > 0) base.timeout = formatDuration(ms);
  }
  if (allowTargets.length > 0) base.allowTargets = [...allowTargets];
  else out.notes.push('no --allow-target given: /probe?module= with a target answers 403 until allowTargets lists the targets');
  const check = translateProber(raw, base, out);
  // A prober driftwatch lacks says so once, not again for its own section.
  if (check !== undefined) sortUnknownKeys(out, '', unknownKeys(raw, blackboxModule), otherProbers(raw.prober));
  if (check !== undefined && out.refused.length === 0) out.check = check;
  return out;
}

function translateProber(raw: BlackboxModule, base: Record<string, unknown>, out: Translation): Record<string, unknown> | undefined {
  switch (raw.prober) {
    case 'http':
      // Without its proxy the probe would take another path to the target: not the same check.
      if (raw.http?.proxy_url !== undefined) {
        out.refused.push('proxy_url: driftwatch dials targets directly, never through a proxy');
        return undefined;
      }
      return { ...base, type: 'http', url: `http://${PLACEHOLDER_HOST}/`, ...translateHttp(out.module, raw.http ?? {}, out) };
    case 'tcp':
      return translateTcp(base, raw.tcp ?? {}, out);
    case 'dns': {
      const dns = raw.dns;
      if (dns?.query_name !== undefined) return { ...base, type: 'dns', ...translateDns({ ...dns, query_name: dns.query_name }, out) };
      out.refused.push('dns without query_name: nothing to ask');
      return undefined;
    }
    case 'grpc':
      return { ...base, type: 'grpc', target: `${PLACEHOLDER_HOST}:443`, ...translateGrpc(raw.grpc ?? {}, out) };
    case 'icmp':
      out.refused.push(ICMP_REFUSAL);
      return undefined;
    default:
      out.refused.push(`prober ${raw.prober}: driftwatch has no ${raw.prober} check (it has http, tcp with or without TLS, dns and grpc)`);
      return undefined;
  }
}

/** The sections of the probers other than this module's: harmless (blackbox reads only its own prober's). */
function otherProbers(prober: string): Record<string, string> {
  const harmless: Record<string, string> = {};
  for (const [key, why] of Object.entries(OTHER_PROBERS)) if (key !== prober) harmless[key] = why;
  return harmless;
}

function translateTcp(base: Record<string, unknown>, tcp: TcpProbe, out: Translation): Record<string, unknown> | undefined {
  if (tcp.query_response && tcp.query_response.length > 0) {
    out.refused.push('query_response: driftwatch connects (and handshakes TLS) but holds no send/expect dialogue, so banners and STARTTLS are not checked');
    return undefined;
  }
  sortUnknownKeys(out, '', unknownKeys(tcp, tcpProbe));
  const address = { host: PLACEHOLDER_HOST, port: 443, ...ipProtocolOf(tcp) };
  if (tcp.tls !== true) return { ...base, type: 'tcp', ...address };
  // A TCP connection with TLS is driftwatch's tls check; blackbox has no expiry minimum.
  const tls = tcp.tls_config ?? {};
  sortUnknownKeys(out, 'tls_config.', unknownKeys(tls, TLS_KEYS));
  return {
    ...base,
    type: 'tls',
    ...address,
    ...(tls.ca_file !== undefined && { ca: tls.ca_file }),
    ...(tls.server_name !== undefined && { serverName: tls.server_name }),
    expect: { minDaysValid: 0, ...(tls.insecure_skip_verify === true && { chainVerifies: false }) },
  };
}
