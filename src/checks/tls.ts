import { isIP } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { addressSamples, probeSample, tlsSamples } from './blackbox-series.js';
import { lookupAddress } from '../net/address-lookup.js';
import { CertificateError, describeCertificate, describeVerifyError, formatIssuer, readCaFile, verifyErrorOf, type CertificateInfo } from '../net/certificate.js';
import type { Failure } from '../results/result.js';
import type { CheckType } from './check-type.js';
import type { ProbeSample } from '../results/run.js';
import { ipPreference, ipProtocolFields } from './ip-protocol.js';
import { ipAddress } from './http.js';
import { clientContext } from '../net/tls-contexts.js';
import { guard } from '../net/listener-guard.js';

export const schema = z.strictObject({
  ...baseFields,
  type: z.literal('tls'),
  host: z.string().min(1).meta({ description: 'host name (or IP) to connect to' }),
  port: z.number().int().min(1).max(65535).default(443),
  resolve: ipAddress.optional().meta({ description: 'dial this IP; SNI and the name check keep the host name' }),
  ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
  ...ipProtocolFields,
  serverName: z.string().min(1).optional().meta({ description: 'SNI, and the name the certificate must cover (default: host)' }),
  expect: z
    .strictObject({
      minDaysValid: z.number().min(0).default(14).meta({ description: 'days the leaf must stay valid (default 14)' }),
      issuer: z.string().min(1).optional().meta({ description: "text the issuer (O= and CN=) contains, e.g. Let's Encrypt" }),
      chainVerifies: z.boolean().default(true).meta({ description: 'require a chain to a trusted root (default true)' }),
    })
    .prefault({}),
});
export type TlsSpec = z.infer<typeof schema>;

export interface TlsObservations {
  host: string;
  port: number;
  serverName: string;
  address?: string;
  /** Resolving host (0 for an IP or a pinned address). */
  lookupMs?: number;
  protocol?: string;
  handshakeMs?: number;
  subject?: string;
  issuer?: string;
  sans?: string[];
  sansCoverHost?: boolean;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  /** Earliest notAfter in the chain the server sent. */
  chainNotAfter?: string;
  fingerprint256?: string;
  /** Subject and issuer as blackbox labels them (Go's form), and the DNS names among the SANs. */
  subjectDn?: string;
  issuerDn?: string;
  dnsNames?: string[];
  chainVerified?: boolean;
  chainError?: string;
}

/**
 * Handshakes and inspects the certificate. The chain is fetched with verification off so a bad
 * chain is reported (with its reason) instead of thrown, and name coverage is checked apart from
 * it, so one run says everything that is wrong.
 */
export const check: CheckType<TlsSpec, TlsObservations> = {
  async run(spec, ctx) {
    const serverName = spec.serverName ?? spec.host;
    const ca = spec.ca === undefined ? undefined : await readCaFile(spec.ca, ctx.signal);
    const { address, lookupMs } = await lookupAddress(spec.resolve ?? spec.host, ipPreference(spec), ctx.signal);
    ctx.progress({ host: spec.host, port: spec.port, serverName, address, lookupMs });
    const started = performance.now();
    const socket = await handshake(address, spec.port, serverName, ca, ctx.signal);
    try {
      const handshakeMs = Math.round((performance.now() - started) * 1000) / 1000;
      const peer = socket.getPeerCertificate(true);
      const base: TlsObservations = { host: spec.host, port: spec.port, serverName, address: socket.remoteAddress ?? address, lookupMs, protocol: socket.getProtocol() ?? 'unknown', handshakeMs };
      ctx.trace('handshake', { ...base });
      const chainError = verifyErrorOf(socket).verifyError;
      let cert: CertificateInfo | undefined;
      try {
        cert = describeCertificate(peer);
      } catch (err) {
        if (!(err instanceof CertificateError)) throw err;
        const observations = { ...base, chainVerified: socket.authorized, ...(chainError !== undefined && { chainError }) };
        return { observations, failure: { reason: 'tls', message: `${err.message} (${err.code})` } };
      }
      if (!cert) return { observations: base, failure: { reason: 'tls', message: `${serverName} sent no certificate` } };
      const observations: TlsObservations = {
        ...base,
        subject: cert.subject,
        issuer: formatIssuer(cert),
        sans: cert.sans,
        sansCoverHost: checkServerIdentity(serverName, peer) === undefined,
        notBefore: cert.validFrom,
        notAfter: cert.validTo,
        daysLeft: cert.daysLeft,
        chainNotAfter: cert.chainValidTo,
        fingerprint256: cert.fingerprint256,
        subjectDn: cert.subjectDn,
        issuerDn: cert.issuerDn,
        dnsNames: cert.dnsNames,
        chainVerified: socket.authorized,
        ...(chainError !== undefined && { chainError }),
      };
      const failure = evaluate(spec, observations, cert);
      return failure ? { observations, failure } : { observations };
    } finally {
      socket.destroy();
    }
  },
  samples: (_spec, o) => (o?.notAfter ? [{ name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: Date.parse(o.notAfter) / 1000 }] : []),
  probeSamples,
  target: {
    get: (spec) => `${spec.host}:${spec.port}`,
    set: (spec, target) => {
      const at = target.lastIndexOf(':');
      const port = Number(target.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port)) return { ...spec, host: target, resolve: undefined, serverName: undefined };
      return { ...spec, host: target.slice(0, at), port, resolve: undefined, serverName: undefined };
    },
  },
};

/** Certificate problems fail with reason tls; a short validity or another issuer with assertion. */
function evaluate(spec: TlsSpec, o: TlsObservations, cert: CertificateInfo): Failure | undefined {
  const broken: string[] = [];
  const unmet: string[] = [];
  const daysLeft = o.daysLeft ?? 0;
  const chainError = o.chainError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
  if (spec.expect.chainVerifies && !o.chainVerified && chainError !== 'CERT_HAS_EXPIRED') {
    broken.push(`${describeVerifyError(chainError, cert, o.serverName)} (${chainError})`);
  }
  if (!o.sansCoverHost) broken.push(`certificate names [${(o.sans ?? []).join(', ')}] do not cover ${o.serverName}`);
  if (daysLeft < 0) broken.push(`certificate expired at ${o.notAfter ?? '?'}`);
  else if (daysLeft < spec.expect.minDaysValid) {
    unmet.push(`certificate valid ${daysLeft} more days (until ${o.notAfter ?? '?'}), expected at least ${spec.expect.minDaysValid}`);
  }
  const issuer = spec.expect.issuer;
  if (issuer !== undefined && !(o.issuer ?? '').toLowerCase().includes(issuer.toLowerCase())) {
    unmet.push(`issuer "${o.issuer ?? ''}", expected one containing "${issuer}"`);
  }
  if (broken.length > 0) return { reason: 'tls', message: [...broken, ...unmet].join('; ') };
  if (unmet.length > 0) return { reason: 'assertion', message: unmet.join('; ') };
  return undefined;
}

/**
 * blackbox's tcp prober with tls: true: the address series, no regex, and the TLS series when
 * its handshake would have succeeded (a verified chain covering the name, or verification off).
 */
function probeSamples(spec: TlsSpec, o: TlsObservations | undefined): ProbeSample[] {
  const out = [...addressSamples(o?.address, o?.lookupMs), probeSample('probe_failed_due_to_regex', 0)];
  const connected = o?.protocol !== undefined && (!spec.expect.chainVerifies || (o.chainVerified === true && o.sansCoverHost === true));
  if (!connected) return out;
  const certificate =
    o.chainNotAfter !== undefined && o.fingerprint256 !== undefined
      ? { chainValidTo: o.chainNotAfter, fingerprint256: o.fingerprint256, subjectDn: o.subjectDn ?? '', issuerDn: o.issuerDn ?? '', dnsNames: o.dnsNames ?? [] }
      : undefined;
  return [...out, ...tlsSamples({ version: o.protocol ?? 'unknown', verified: o.chainVerified === true, certificate })];
}

function handshake(address: string, port: number, serverName: string, ca: string | undefined, signal: AbortSignal): Promise<TLSSocket> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address,
      port,
      // SNI carries names only (RFC 6066); Node warns when given an IP.
      servername: isIP(serverName) ? undefined : serverName,
      secureContext: clientContext(ca),
      rejectUnauthorized: false,
      // Name coverage is checked separately, so `authorized` speaks for the chain alone.
      checkServerIdentity: () => undefined,
    });
    const onAbort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const done = () => {
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const fail = (err: Error) => {
      done();
      socket.destroy();
      reject(err);
    };
    socket.once(
      'secureConnect',
      guard(fail, () => {
        done();
        resolve(socket);
      }),
    );
    socket.once('error', fail);
  });
}
