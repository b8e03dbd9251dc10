import { grpcProbe, type GrpcProbe } from './blackbox-config.js';
import { ipProtocolOf, sortUnknownKeys, TLS_KEYS, unknownKeys, type Translation } from './blackbox-translation.js';

/**
 * A blackbox grpc module (grpc_probe) as the fields of a grpc check. blackbox speaks plaintext
 * unless `tls: true` (driftwatch's default is TLS, so plaintext is written out), asks the health
 * service about `service` and passes on SERVING only, as the check's default expectation does.
 */
export function translateGrpc(grpc: GrpcProbe, out: Translation): Record<string, unknown> {
  const check: Record<string, unknown> = {};
  if (grpc.service !== undefined && grpc.service !== '') check.service = grpc.service;
  if (grpc.tls !== true) {
    check.plaintext = true;
    if (grpc.tls_config !== undefined) out.untranslated.push('tls_config: used only with tls: true, which this module does not set');
  } else {
    const tls = grpc.tls_config ?? {};
    if (tls.insecure_skip_verify === true) check.insecureSkipVerify = true;
    if (tls.ca_file !== undefined) check.ca = tls.ca_file;
    if (tls.server_name !== undefined) out.refused.push(`tls_config.server_name ${tls.server_name}: a grpc check sends and verifies the host of its target; put that name in the target and pin the address with resolve: instead`);
    sortUnknownKeys(out, 'tls_config.', unknownKeys(tls, TLS_KEYS));
  }
  Object.assign(check, ipProtocolOf(grpc));
  out.notes.push('the module target is host:port (or http(s)://host:port); without a port blackbox dials 443 with tls: true and 80 without, and so does driftwatch');
  sortUnknownKeys(out, '', unknownKeys(grpc, grpcProbe));
  return check;
}
