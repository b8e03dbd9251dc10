import { isIPv6 } from 'node:net';
import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { duration, formatDuration } from '../config/duration.js';
import { lookupAddress } from '../net/address-lookup.js';
import { formatIssuer, readCaFile } from '../net/certificate.js';
import type { Failure } from '../results/result.js';
import type { Sample } from '../results/run.js';
import type { CheckType } from './check-type.js';
import { callHealth, MAX_ANSWER_BYTES, SERVING_STATUSES, type HealthCallResult } from './grpc-health.js';
import { grpcProbeSamples, type GrpcObservations } from './grpc-series.js';
import { ipAddress } from './http.js';
import { ipPreference, ipProtocolFields } from './ip-protocol.js';
import { requestHeaders, resolveHeaders } from './request-fields.js';

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
const TARGET = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('grpc'),
    target: z
      .string()
      .regex(TARGET, 'expected host:port (an IPv6 address in brackets: [::1]:50051)')
      .meta({ description: 'host:port of the gRPC server; the host is the :authority, SNI and certificate name' }),
    service: z.string().default('').meta({ description: "the service asked about (default '': the server as a whole)" }),
    plaintext: z.boolean().default(false).meta({ description: 'speak gRPC without TLS (default: TLS)' }),
    resolve: ipAddress.optional().meta({ description: "dial this IP; :authority, SNI and the certificate check keep the target's host" }),
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
    insecureSkipVerify: z.boolean().default(false),
    metadata: requestHeaders.meta({ description: 'request metadata (headers), values as text or a secret reference; credentials only as references' }),
    ...ipProtocolFields,
    expect: z
      .strictObject({
        status: z.enum(SERVING_STATUSES).default('SERVING').meta({ description: 'the serving status the health service must answer (default SERVING)' }),
        maxDuration: duration.optional().meta({ description: 'the whole call must take at most this long' }),
        certMinDaysValid: z.number().min(0).optional().meta({ description: 'TLS: the certificate must stay valid this many more days' }),
      })
      .prefault({}),
  })
  .superRefine((spec, ctx) => {
    for (const key of Object.keys(spec.metadata)) {
      if (/-bin$/i.test(key)) ctx.addIssue({ code: 'custom', path: ['metadata', key], message: 'binary metadata (-bin keys) is not supported: give text values' });
    }
    if (spec.plaintext && spec.expect.certMinDaysValid !== undefined) ctx.addIssue({ code: 'custom', path: ['expect', 'certMinDaysValid'], message: 'needs TLS (plaintext: false)' });
    if (spec.plaintext && (spec.ca !== undefined || spec.insecureSkipVerify)) ctx.addIssue({ code: 'custom', path: ['plaintext'], message: 'plaintext has no TLS: ca and insecureSkipVerify do not apply' });
  });
export type GrpcSpec = z.infer<typeof schema>;
export type { GrpcObservations };

/** Splits host:port; brackets are taken off an IPv6 host. */
export function splitTarget(target: string): { host: string; port: number } {
  const at = target.lastIndexOf(':');
  const host = target.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(target.slice(at + 1)) };
}

export const check: CheckType<GrpcSpec, GrpcObservations> = {
  async run(spec, ctx) {
    const { host, port } = splitTarget(spec.target);
    const ca = spec.ca === undefined ? undefined : await readCaFile(spec.ca, ctx.signal);
    const metadata = Object.keys(spec.metadata).length === 0 ? {} : await resolveHeaders(spec.metadata);
    const base = { target: spec.target, service: spec.service, tls: !spec.plaintext, via: spec.resolve ?? 'dns' };
    const { address, lookupMs } = await lookupAddress(spec.resolve ?? host, ipPreference(spec), ctx.signal);
    ctx.progress({ ...base, address, lookupMs });
    ctx.trace('call', { target: spec.target, address, service: spec.service, metadata: Object.keys(metadata) });
    const dial = isIPv6(address) ? `ipv6:[${address}]:${port}` : `ipv4:${address}:${port}`;
    const answer = await callHealth({ dial, authority: spec.target, serverName: host, plaintext: spec.plaintext, ca, insecureSkipVerify: spec.insecureSkipVerify, service: spec.service, metadata, signal: ctx.signal });
    const observations: GrpcObservations = {
      ...base,
      address,
      lookupMs,
      grpcCode: answer.code,
      grpcStatus: answer.codeName,
      ...(answer.servingStatus !== undefined && { servingStatus: answer.servingStatus }),
      ...(answer.connectMs !== undefined && { connectMs: answer.connectMs }),
      totalMs: answer.totalMs,
      ...(answer.certificate && { certificate: answer.certificate }),
    };
    const failure = answer.code === 0 ? evaluate(spec, observations) : callFailure(spec, answer, ctx.signal.aborted);
    return failure ? { observations, failure } : { observations };
  },
  samples,
  probeSamples: (_spec, o) => grpcProbeSamples(o),
  target: {
    get: (spec) => spec.target,
    set: (spec, target) => (TARGET.test(target) ? { ...spec, target, resolve: undefined } : undefined),
    setFromModule: (spec, target) => {
      const normal = moduleTarget(target, spec.plaintext);
      return normal === undefined ? undefined : { ...spec, target: normal, resolve: undefined };
    },
  },
};

/**
 * A target as blackbox's grpc prober reads it: host:port, an http:// or https:// URL of it (the
 * scheme says nothing), or a host alone, which gets port 443 with TLS and 80 without.
 */
export function moduleTarget(target: string, plaintext: boolean): string | undefined {
  const bare = target.replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (TARGET.test(bare)) return bare;
  const host = /^\[[0-9A-Fa-f:.]+\]$/.test(bare) ? bare : /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$/.test(bare) ? `[${bare}]` : bare;
  const withPort = `${host}:${plaintext ? 80 : 443}`;
  return TARGET.test(withPort) ? withPort : undefined;
}

/** The serving status, then the duration and certificate expectations. */
function evaluate(spec: GrpcSpec, o: GrpcObservations): Failure | undefined {
  const wanted = spec.expect.status;
  if (o.servingStatus !== wanted) return { reason: 'status', message: `health status ${o.servingStatus ?? 'UNKNOWN'}${serviceNote(spec)}, expected ${wanted}` };
  const problems: string[] = [];
  if (spec.expect.maxDuration !== undefined && (o.totalMs ?? 0) > spec.expect.maxDuration) {
    problems.push(`took ${Math.round(o.totalMs ?? 0)}ms, expected at most ${formatDuration(spec.expect.maxDuration)}`);
  }
  const minDays = spec.expect.certMinDaysValid;
  if (minDays !== undefined) {
    const cert = o.certificate;
    if (!cert) problems.push(`no certificate read, expected one valid ${minDays} more days`);
    else if (cert.daysLeft < minDays) problems.push(`certificate (${formatIssuer(cert)}) valid ${cert.daysLeft} more days (until ${cert.validTo}), expected at least ${minDays}`);
  }
  return problems.length > 0 ? { reason: 'assertion', message: problems.join('; ') } : undefined;
}

function serviceNote(spec: GrpcSpec): string {
  return spec.service === '' ? '' : ` for service "${spec.service}"`;
}

/**
 * A call that failed, classified: no health service (UNIMPLEMENTED) and an unknown service
 * (NOT_FOUND, the protocol's SERVICE_UNKNOWN) are answers, reason status; an answer over the cap
 * is an unmet expectation; UNAVAILABLE is a connect or TLS failure by what grpc-js says of it.
 */
function callFailure(spec: GrpcSpec, answer: HealthCallResult, aborted: boolean): Failure {
  const details = answer.details ?? '';
  const code = answer.codeName;
  if (aborted || code === 'DEADLINE_EXCEEDED') return { reason: 'timeout', message: `no health answer from ${spec.target} before the timeout (${code})` };
  if (code === 'UNIMPLEMENTED') return { reason: 'status', message: `${spec.target} has no health service (gRPC UNIMPLEMENTED), expected ${spec.expect.status}` };
  if (code === 'NOT_FOUND') return { reason: 'status', message: `health status SERVICE_UNKNOWN${serviceNote(spec)} (gRPC NOT_FOUND), expected ${spec.expect.status}` };
  if (code === 'RESOURCE_EXHAUSTED') return { reason: 'assertion', message: `health answer larger than ${MAX_ANSWER_BYTES} bytes (gRPC RESOURCE_EXHAUSTED): ${details}` };
  if (answer.nameError !== undefined) return { reason: 'tls', message: `${answer.nameError} (ERR_TLS_CERT_ALTNAME_INVALID)` };
  if (code === 'UNAVAILABLE' && !spec.plaintext && /certificate|self.signed|SSL|TLS|ALPN|handshake|altname|issuer/i.test(details)) return { reason: 'tls', message: `TLS with ${spec.target} failed: ${details}` };
  if (code === 'UNAVAILABLE') return { reason: 'connect', message: `${spec.target} unavailable: ${details}` };
  return { reason: 'error', message: `gRPC ${code}: ${details}` };
}

function samples(_spec: GrpcSpec, o: GrpcObservations | undefined): Sample[] {
  const cert = o?.certificate;
  return cert ? [{ name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: Date.parse(cert.validTo) / 1000 }] : [];
}
