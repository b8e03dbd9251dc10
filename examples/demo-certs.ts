/**
 * Certificates for the demo: a CA minted for this run and one leaf for the hub's hostname,
 * signed by it. `selfsigned` (a dev dependency) does it in-process, so the demo needs neither
 * openssl nor any other system package. EC keys: minting takes milliseconds.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface DemoCertificates {
  /** PEM of the CA: the checks' `ca:` (it stands in for Let's Encrypt and the system roots). */
  caPath: string;
  /** The CA's name, for the tls check's `issuer` expectation. */
  issuer: string;
  /** Served by both the ingress and the stale host: both really are hub.coulomb.social. */
  leaf: { cert: string; key: string };
}

export const DEMO_CA_NAME = 'driftwatch demo CA';
const DAY_MS = 86_400_000;

export async function mintDemoCertificates(dir: string, hostname: string): Promise<DemoCertificates> {
  const now = Date.now();
  const ca = await generate(
    [
      { name: 'commonName', value: DEMO_CA_NAME },
      { name: 'organizationName', value: 'driftwatch demo' },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - DAY_MS),
      notAfterDate: new Date(now + 365 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
  );
  // 90 days, like a Let's Encrypt certificate: the tls check's 14-day minimum passes.
  const leaf = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 90 * DAY_MS),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
    ],
  });
  const caPath = join(dir, 'ca.pem');
  // Only the CA certificate goes to disk (the checks read it); the keys stay in memory.
  await writeFile(caPath, ca.cert);
  return { caPath, issuer: DEMO_CA_NAME, leaf: { cert: leaf.cert, key: leaf.private } };
}
