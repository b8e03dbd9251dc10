import type { ProbeSample } from '../results/run.js';
import { addressSamples, probeSample } from './blackbox-series.js';
import type { CertificateInfo } from '../net/certificate.js';
import { SERVING_STATUSES, type ServingStatus } from './grpc-health.js';

export interface GrpcObservations {
  target: string;
  service: string;
  tls: boolean;
  /** The pinned IP, or "dns": the `via` of the http check. */
  via: string;
  address?: string;
  lookupMs?: number;
  /** gRPC status code of the call and its name (0, OK). */
  grpcCode?: number;
  grpcStatus?: string;
  /** What the health service answered. */
  servingStatus?: ServingStatus;
  connectMs?: number;
  totalMs?: number;
  certificate?: CertificateInfo;
}


/**
 * blackbox_exporter's grpc prober series (prober/grpc.go): the address, the resolve and check
 * phases, the gRPC status code, one healthcheck_response gauge per serving status (1 for the one
 * answered), probe_grpc_ssl and the earliest certificate expiry (0 until a TLS answer, as its
 * gauge starts). blackbox sets the TLS ones only after an answer; so does this. Not given:
 * probe_tls_version_info, as grpc-js does not tell the TLS version of its connection.
 */
export function grpcProbeSamples(o: GrpcObservations | undefined): ProbeSample[] {
  const answered = o?.grpcCode === 0;
  const cert = answered ? o.certificate : undefined;
  const out = [
    ...addressSamples(o?.address, o?.lookupMs),
    probeSample('probe_grpc_duration_seconds', (o?.lookupMs ?? 0) / 1000, { phase: 'resolve' }),
    probeSample('probe_grpc_duration_seconds', Math.max(0, (o?.totalMs ?? 0) / 1000), { phase: 'check' }),
    ...SERVING_STATUSES.map((status) => probeSample('probe_grpc_healthcheck_response', o?.servingStatus === status ? 1 : 0, { serving_status: status })),
    probeSample('probe_grpc_ssl', answered && o.tls ? 1 : 0),
    probeSample('probe_grpc_status_code', o?.grpcCode ?? 0),
    probeSample('probe_ssl_earliest_cert_expiry', cert ? Date.parse(cert.chainValidTo) / 1000 : 0),
  ];
  if (cert) {
    out.push(
      probeSample('probe_ssl_last_chain_info', 1, {
        fingerprint_sha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
        issuer: cert.issuerDn,
        subject: cert.subjectDn,
        subjectalternative: cert.dnsNames.join(','),
      }),
    );
  }
  return out;
}
