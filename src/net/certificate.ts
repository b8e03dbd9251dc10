import { readFile } from 'node:fs/promises';
import type { Certificate, DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { CheckFailure } from '../results/result.js';
import type { EndSignal } from '../results/end-signal.js';

/** A peer certificate as plain, JSON-safe data (Node's object is circular and holds buffers). */
export interface CertificateInfo {
  /** Subject common name. */
  subject: string;
  /** Subject alternative names, without their DNS: / IP Address: prefixes. */
  sans: string[];
  issuer: { commonName: string; organization: string };
  validFrom: string;
  validTo: string;
  /** Days until validTo (negative once expired), to one decimal, rounded down. */
  daysLeft: number;
  fingerprint256: string;
  /** The earliest notAfter of the chain the server sent (blackbox's probe_ssl_earliest_cert_expiry). */
  chainValidTo: string;
  /** Subject and issuer as Go's pkix.Name.String() writes them ("CN=hub,O=Example"), for probe_ssl_last_chain_info. */
  subjectDn: string;
  issuerDn: string;
  /** The DNS names among the subject alternative names. */
  dnsNames: string[];
}

/** What a TLS connection showed: protocol, verification and the leaf certificate. */
export interface TlsInfo {
  /** "TLSv1.3". */
  version: string;
  /** Chain and hostname verified against the trusted roots. */
  verified: boolean;
  /** The verification error's code (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, ...). */
  verifyError?: string;
  certificate?: CertificateInfo;
  /** Why the certificate the peer sent cannot be described (then `certificate` is absent): the connection must fail. */
  unreadable?: { code: string; message: string };
}

const DAY_MS = 86_400_000;

/**
 * Reads a connected TLS socket; call it at secureConnect, before any request is written. Never
 * throws: a certificate that cannot be described (a validity time no parser reads) is reported
 * in `unreadable`, and the caller fails the connection with it.
 */
export function describeTls(socket: TLSSocket): TlsInfo {
  const info: TlsInfo = { version: socket.getProtocol() ?? 'unknown', verified: socket.authorized, ...verifyErrorOf(socket) };
  try {
    const certificate = describeCertificate(socket.getPeerCertificate(true));
    return certificate ? { ...info, certificate } : info;
  } catch (err) {
    if (!(err instanceof CertificateError)) throw err;
    return { ...info, unreadable: { code: err.code, message: err.message } };
  }
}

/** Typed as Error, but Node stores the verification error's code (a string) there. */
export function verifyErrorOf(socket: TLSSocket): { verifyError?: string } {
  const raw: unknown = socket.authorizationError;
  if (typeof raw === 'string') return { verifyError: raw };
  if (raw instanceof Error) return { verifyError: 'code' in raw && typeof raw.code === 'string' ? raw.code : raw.message };
  return {};
}

/**
 * Describes a peer certificate; undefined when the peer sent none. Throws CertificateError
 * (ERROR_IN_CERT_NOT_AFTER_FIELD, as OpenSSL names it) when a validity time of the leaf or of the
 * chain cannot be read: Node then reports "Bad time value", and a date made of it is invalid.
 */
export function describeCertificate(cert: PeerCertificate | DetailedPeerCertificate, now = Date.now()): CertificateInfo | undefined {
  if (!cert.valid_to) return undefined;
  const validFrom = readTime(cert.valid_from, 'notBefore', 'certificate');
  const validTo = readTime(cert.valid_to, 'notAfter', 'certificate');
  return {
    subject: field(cert.subject, 'CN'),
    sans: parseSans(cert.subjectaltname),
    issuer: { commonName: field(cert.issuer, 'CN'), organization: field(cert.issuer, 'O') },
    validFrom: new Date(validFrom).toISOString(),
    validTo: new Date(validTo).toISOString(),
    daysLeft: Math.floor(((validTo - now) / DAY_MS) * 10) / 10,
    fingerprint256: cert.fingerprint256,
    chainValidTo: new Date(earliestExpiry(cert, validTo)).toISOString(),
    subjectDn: goDistinguishedName(cert.subject),
    issuerDn: goDistinguishedName(cert.issuer),
    dnsNames: (cert.subjectaltname ?? '').split(', ').flatMap((entry) => (entry.startsWith('DNS:') ? [entry.slice(4)] : [])),
  };
}

/** Go's order of the attributes it knows, last RDN first as String() prints them; others are left out. */
const GO_NAME_ORDER = [
  ['serialNumber', 'SERIALNUMBER'],
  ['CN', 'CN'],
  ['OU', 'OU'],
  ['O', 'O'],
  ['postalCode', 'POSTALCODE'],
  ['street', 'STREET'],
  ['L', 'L'],
  ['ST', 'ST'],
  ['C', 'C'],
] as const;

function goDistinguishedName(name: Certificate | undefined): string {
  const fields: Partial<Record<string, string | string[]>> = { ...name };
  const rdns: string[] = [];
  for (const [key, goName] of GO_NAME_ORDER) {
    const value = fields[key];
    if (value === undefined) continue;
    rdns.push((Array.isArray(value) ? value : [value]).map((v) => `${goName}=${escapeDnValue(v)}`).join('+'));
  }
  return rdns.join(',');
}

/** RFC 4514 escapes as Go writes them: , + " \\ < > ; anywhere, a space at either end, # first. */
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;]|^[ #]| $/g, (c) => `\\${c}`);
}

function readTime(text: string, name: 'notBefore' | 'notAfter', whose: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    const code = name === 'notAfter' ? 'ERROR_IN_CERT_NOT_AFTER_FIELD' : 'ERROR_IN_CERT_NOT_BEFORE_FIELD';
    throw new CertificateError(code, `${whose} has a malformed ${name} field (${JSON.stringify(text.slice(0, 40))})`);
  }
  return ms;
}

/** The issuer as one line, for messages and substring expectations. */
export function formatIssuer(info: CertificateInfo): string {
  const { commonName, organization } = info.issuer;
  return [organization && `O=${organization}`, commonName && `CN=${commonName}`].filter(Boolean).join(', ');
}

function field(name: Certificate | undefined, key: 'CN' | 'O'): string {
  const value = name?.[key];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function parseSans(text: string | undefined): string[] {
  if (!text) return [];
  return text.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
}

/** Walks issuerCertificate links (circular at a self-signed root) for the earliest notAfter. */
function earliestExpiry(cert: PeerCertificate | DetailedPeerCertificate, leafValidTo: number): number {
  let earliest = leafValidTo;
  const seen = new Set<string>([cert.fingerprint256]);
  // Absent without getPeerCertificate(true); typed as always present.
  let next: DetailedPeerCertificate | undefined = 'issuerCertificate' in cert ? cert.issuerCertificate : undefined;
  while (next?.valid_to && !seen.has(next.fingerprint256)) {
    seen.add(next.fingerprint256);
    earliest = Math.min(earliest, readTime(next.valid_to, 'notAfter', 'a chain certificate'));
    const parent: DetailedPeerCertificate | undefined = next.issuerCertificate;
    next = parent;
  }
  return earliest;
}

/** Says in words why verification failed, naming the certificate's own facts. */
export function describeVerifyError(code: string, cert: CertificateInfo | undefined, hostname: string): string {
  const issuer = cert ? ` "${formatIssuer(cert)}"` : '';
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `certificate expired at ${cert?.validTo ?? 'an unknown date'}`;
    case 'CERT_NOT_YET_VALID':
      return `certificate not valid before ${cert?.validFrom ?? 'an unknown date'}`;
    case 'ERROR_IN_CERT_NOT_AFTER_FIELD':
      return 'certificate has a malformed notAfter field';
    case 'ERROR_IN_CERT_NOT_BEFORE_FIELD':
      return 'certificate has a malformed notBefore field';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return `certificate names [${cert?.sans.join(', ') ?? ''}] do not cover ${hostname}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `self-signed certificate${issuer} is not trusted`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `certificate issuer${issuer} is not trusted`;
    default:
      return `certificate verification failed`;
  }
}

/** An unverified TLS peer, failed the way Node fails it, with the code results/classify.ts maps to tls. */
export class CertificateError extends Error {
  override name = 'CertificateError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the PEM file a check trusts (once per run, so a rotated CA is picked up); unreadable is a config problem. */
export async function readCaFile(path: string, signal: EndSignal): Promise<string> {
  try {
    // The read itself is not cut short by an EndSignal that is not an AbortSignal; the run's deadline still ends the run.
    return await readFile(path, { encoding: 'utf8', signal: signal instanceof AbortSignal ? signal : undefined });
  } catch (err) {
    if (signal.aborted) throw err;
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
    throw new CheckFailure('config', `ca file ${path} cannot be read (${code})`);
  }
}

/** "TLSv1.3" -> "TLS 1.3", as blackbox_exporter labels it. */
export function blackboxTlsVersion(version: string): string {
  return version.replace(/^TLSv/, 'TLS ');
}
