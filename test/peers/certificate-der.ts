/**
 * Rewrites a field of a real X.509 certificate and signs it again, for the certificates no tool
 * will mint: openssl, selfsigned and node:crypto refuse a notAfter like `99AB31235959Z`, yet a
 * TLS server loads such a certificate and sends it (OpenSSL parses the time lazily), and Node's
 * client then reports `valid_to: "Bad time value"`. Only the DER needed for that: the outer
 * Certificate SEQUENCE, the TBSCertificate's validity, and a fresh signature.
 */
import { sign } from 'node:crypto';

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

export type ValidityField = 'notBefore' | 'notAfter';

/**
 * The certificate with one validity time's text replaced by `text` (same length as the original:
 * 13 characters for a UTCTime such as 270302150837Z), signed again with `issuerKey` (PEM).
 */
export function rewriteValidity(certPem: string, issuerKey: string, field: ValidityField, text: string): string {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const [tbs, algorithm] = childrenOf(der, readTlv(der, 0));
  if (!tbs || !algorithm) throw new Error('not an X.509 certificate');
  // TBSCertificate: [0] version, serialNumber, signature, issuer, validity, ...
  const validity = childrenOf(der, tbs)[4];
  const time = validity && childrenOf(der, validity)[field === 'notBefore' ? 0 : 1];
  if (!time || (time.tag !== 0x17 && time.tag !== 0x18)) throw new Error('no validity times where X.509 puts them');
  if (time.end - time.contentStart !== text.length) throw new Error(`${field} is ${time.end - time.contentStart} characters; give a text of the same length`);
  const newTbs = Buffer.from(der.subarray(tbs.start, tbs.end));
  newTbs.write(text, time.contentStart - tbs.start, 'latin1');
  const signature = sign('sha256', newTbs, issuerKey);
  const cert = encode(0x30, Buffer.concat([newTbs, der.subarray(algorithm.start, algorithm.end), encode(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
  const lines = cert.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der.readUInt8(at);
  const first = der.readUInt8(at + 1);
  if (first < 0x80) return { tag, start: at, contentStart: at + 2, end: at + 2 + first };
  const octets = first & 0x7f;
  const length = der.readUIntBE(at + 2, octets);
  return { tag, start: at, contentStart: at + 2 + octets, end: at + 2 + octets + length };
}

function childrenOf(der: Buffer, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at);
    children.push(child);
    at = child.end;
  }
  return children;
}

function encode(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
