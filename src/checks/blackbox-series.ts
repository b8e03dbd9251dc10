import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import type { ProbeSample } from '../results/run.js';
import { blackboxTlsVersion, type CertificateInfo } from '../net/certificate.js';

/**
 * blackbox_exporter 0.23's series names and help texts, word for word (measured on its /probe
 * answers; test/blackbox-compat.test.ts compares them side by side), and the samples several
 * check types share: the dialled address (prober/utils.go) and the TLS connection (prober/tls.go).
 */
const HELP = {
  probe_dns_lookup_time_seconds: 'Returns the time taken for probe dns lookup in seconds',
  probe_ip_protocol: 'Specifies whether probe ip protocol is IP4 or IP6',
  probe_ip_addr_hash: "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
  probe_failed_due_to_regex: 'Indicates if probe failed due to regex',
  probe_http_status_code: 'Response HTTP status code',
  probe_http_duration_seconds: 'Duration of http request by phase, summed over all redirects',
  probe_http_content_length: 'Length of http content response',
  probe_http_uncompressed_body_length: 'Length of uncompressed response body',
  probe_http_redirects: 'The number of redirects',
  probe_http_ssl: 'Indicates if SSL was used for the final redirect',
  probe_http_version: 'Returns the version of HTTP of the probe response',
  probe_http_last_modified_timestamp_seconds: 'Returns the Last-Modified HTTP response header in unixtime',
  probe_ssl_earliest_cert_expiry: 'Returns last SSL chain expiry in unixtime',
  probe_ssl_last_chain_expiry_timestamp_seconds: 'Returns last SSL chain expiry in timestamp',
  probe_ssl_last_chain_info: 'Contains SSL leaf certificate information',
  probe_tls_version_info: 'Returns the TLS version used or NaN when unknown',
  probe_dns_duration_seconds: 'Duration of DNS request by phase',
  probe_dns_query_succeeded: 'Displays whether or not the query was executed successfully',
  probe_dns_answer_rrs: 'Returns number of entries in the answer resource record list',
  probe_dns_authority_rrs: 'Returns number of entries in the authority resource record list',
  probe_dns_additional_rrs: 'Returns number of entries in the additional resource record list',
  probe_dns_serial: 'Returns the serial number of the zone',
  probe_grpc_duration_seconds: 'Duration of gRPC request by phase',
  probe_grpc_ssl: 'Indicates if SSL was used for the connection',
  probe_grpc_status_code: 'Response gRPC status code',
  probe_grpc_healthcheck_response: 'Response HealthCheck response',
} as const;

export type BlackboxSeries = keyof typeof HELP;

/** One sample of a blackbox series, its help text filled in. */
export function probeSample(name: BlackboxSeries, value: number, labels?: Record<string, string>): ProbeSample {
  return { name, help: HELP[name], value, ...(labels && { labels }) };
}

/**
 * The dialled address as blackbox reports it: protocol 4 or 6 and the FNV-1a hash of its bytes
 * (4 for IPv4, 16 for IPv6, as Go's net.IP holds them), and the time the name took to resolve.
 * 0 for what is not known, as blackbox's gauges start.
 */
export function addressSamples(address: string | undefined, lookupMs: number | undefined): ProbeSample[] {
  const facts = address === undefined ? undefined : addressFacts(address);
  return [
    probeSample('probe_dns_lookup_time_seconds', (lookupMs ?? 0) / 1000),
    probeSample('probe_ip_protocol', facts?.protocol ?? 0),
    probeSample('probe_ip_addr_hash', facts?.hash ?? 0),
  ];
}

/** Protocol and hash once per distinct address (a target's is the same run after run); bounded. */
const factsByAddress = new Map<string, { protocol: number; hash: number }>();
function addressFacts(address: string): { protocol: number; hash: number } {
  let facts = factsByAddress.get(address);
  if (facts === undefined) {
    const bytes = ipBytes(address);
    facts = bytes === undefined ? { protocol: 0, hash: 0 } : { protocol: bytes.length === 4 ? 4 : 6, hash: fnv1a32(bytes) };
    if (factsByAddress.size >= 256) factsByAddress.clear();
    factsByAddress.set(address, facts);
  }
  return facts;
}

/** What tlsSamples reads of a connection: TlsInfo, or the tls check's own observations. */
export interface TlsView {
  version: string;
  verified: boolean;
  certificate?: Pick<CertificateInfo, 'chainValidTo' | 'fingerprint256' | 'subjectDn' | 'issuerDn' | 'dnsNames'> | undefined;
}

/** TLS series of a connection: earliest expiry, the verified chain's expiry, the leaf, the version. */
export function tlsSamples(tls: TlsView | undefined): ProbeSample[] {
  if (!tls) return [];
  const out: ProbeSample[] = [];
  const cert = tls.certificate;
  if (cert) {
    const chainExpiry = Date.parse(cert.chainValidTo) / 1000;
    out.push(probeSample('probe_ssl_earliest_cert_expiry', chainExpiry));
    // blackbox has this one only for a chain that verified.
    if (tls.verified) out.push(probeSample('probe_ssl_last_chain_expiry_timestamp_seconds', chainExpiry));
    out.push(probeSample('probe_ssl_last_chain_info', 1, chainInfoLabels(cert)));
  }
  out.push(probeSample('probe_tls_version_info', 1, { version: blackboxTlsVersion(tls.version) }));
  return out;
}

function chainInfoLabels(cert: NonNullable<TlsView['certificate']>): Record<string, string> {
  return {
    fingerprint_sha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    issuer: cert.issuerDn,
    subject: cert.subjectDn,
    subjectalternative: cert.dnsNames.join(','),
  };
}

function ipBytes(address: string): number[] | undefined {
  if (isIPv4(address)) return address.split('.').map(Number);
  if (!isIPv6(address)) return undefined;
  // Expand :: and an embedded IPv4 tail into eight groups.
  const full = new SocketAddress({ address, family: 'ipv6' }).address;
  const [head = '', tail = ''] = full.split('::');
  const parts = (text: string) => (text === '' ? [] : text.split(':').flatMap((g) => (g.includes('.') ? v4Groups(g) : [g])));
  const left = parts(head);
  const right = parts(tail);
  const groups = full.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function v4Groups(dotted: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

function fnv1a32(bytes: readonly number[]): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
