import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { rewriteValidity, type ValidityField } from './certificate-der.js';

/** A certificate and its key, in PEM and as files (for a check's `ca:` or a server). */
export interface Pem {
  cert: string;
  key: string;
  certPath: string;
}

/** Everything a TLS test needs, minted fresh for this run into a temp folder. */
export interface Certificates {
  dir: string;
  /** The one hostname the good leaves are for. */
  hostname: string;
  /** The test CA; put `caPath` in a check's `ca:`. */
  ca: Pem;
  caPath: string;
  /** Valid for 90 days, for `hostname`, signed by the CA. */
  leaf: Pem;
  /** Valid for 5 more days: passes verification, fails a 14-day minimum. */
  expiringSoon: Pem;
  /** Expired 30 days ago. */
  expired: Pem;
  /** Valid, signed by the CA, but for another name. */
  wrongName: Pem;
  /** Valid and for `hostname`, but signed by a CA nobody trusts. */
  unknownCa: Pem;
  /** Mints another leaf signed by the test CA. */
  mintLeaf(options: LeafOptions): Promise<Pem>;
  /** A leaf for `hostname`, signed by the test CA, whose notBefore or notAfter is `text` (13 characters, e.g. 99AB31235959Z): a time no parser can read. */
  mintMalformedLeaf(field: ValidityField, text: string): Promise<Pem>;
  close(): Promise<void>;
}

export interface LeafOptions {
  names: string[];
  notBefore?: Date;
  notAfter: Date;
  file: string;
}

export const TEST_HOSTNAME = 'hub.driftwatch.test';
export const CA_NAME = 'driftwatch test CA';
export const CA_ORG = 'driftwatch tests';

const DAY_MS = 86_400_000;

/** Mints a CA and the leaves the HTTP and TLS tests need (EC keys: a run takes milliseconds). */
export async function mintCertificates(hostname = TEST_HOSTNAME): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-certs-'));
  const now = Date.now();
  const ca = await mintCa(dir, 'ca', CA_NAME, CA_ORG);
  const stranger = await mintCa(dir, 'unknown-ca', 'unknown test CA', 'Elsewhere Inc');
  const mintLeaf = (options: LeafOptions) => mintSigned(dir, ca, options);
  const [leaf, expiringSoon, expired, wrongName, unknownCa] = await Promise.all([
    mintLeaf({ names: [hostname], notAfter: new Date(now + 90 * DAY_MS), file: 'leaf' }),
    mintLeaf({ names: [hostname], notAfter: new Date(now + 5 * DAY_MS), file: 'expiring-soon' }),
    mintLeaf({ names: [hostname], notBefore: new Date(now - 60 * DAY_MS), notAfter: new Date(now - 30 * DAY_MS), file: 'expired' }),
    mintLeaf({ names: [`other.${hostname}`], notAfter: new Date(now + 90 * DAY_MS), file: 'wrong-name' }),
    mintSigned(dir, stranger, { names: [hostname], notAfter: new Date(now + 90 * DAY_MS), file: 'unknown-ca-leaf' }),
  ]);
  return {
    dir,
    hostname,
    ca,
    caPath: ca.certPath,
    leaf,
    expiringSoon,
    expired,
    wrongName,
    unknownCa,
    mintLeaf,
    mintMalformedLeaf: async (field, text) => {
      const good = await mintLeaf({ names: [hostname], notAfter: new Date(now + 90 * DAY_MS), file: `malformed-${field}` });
      return save(dir, `malformed-${field}`, rewriteValidity(good.cert, ca.key, field, text), good.key);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function mintCa(dir: string, file: string, commonName: string, organization: string): Promise<Pem> {
  const pems = await generate(
    [
      { name: 'commonName', value: commonName },
      { name: 'organizationName', value: organization },
    ],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 365 * DAY_MS),
      notAfterDate: new Date(Date.now() + 3650 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
  );
  return save(dir, file, pems.cert, pems.private);
}

async function mintSigned(dir: string, issuer: Pem, options: LeafOptions): Promise<Pem> {
  const [first = 'leaf'] = options.names;
  const pems = await generate([{ name: 'commonName', value: first }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: options.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfterDate: options.notAfter,
    ca: { key: issuer.key, cert: issuer.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: options.names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return save(dir, options.file, pems.cert, pems.private);
}

async function save(dir: string, file: string, cert: string, key: string): Promise<Pem> {
  const certPath = join(dir, `${file}.pem`);
  await writeFile(certPath, cert);
  await writeFile(join(dir, `${file}-key.pem`), key, { mode: 0o600 });
  return { cert, key, certPath };
}
