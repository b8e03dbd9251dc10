/**
 * SOPS-encrypted files as `sops --encrypt --age RECIPIENT` writes them (getsops/sops 3.8, the
 * runbook's deploy/railiance/secrets/inter-hub.env.sops.yaml), made here because no sops binary
 * is packaged for Debian 12. Values are really encrypted the way sops does it: AES-256-GCM with a
 * random 256-bit data key, a 32-byte IV per value and the value's path ("stringData:KEY:") as
 * additional data, written ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]; the MAC too. The
 * age stanza has the armor and header lines of a real one but its body is random: the data key
 * is not recoverable, which the key reader never needs (it decrypts nothing).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { stringify } from 'yaml';

/** The recipient of the runbook's sops --encrypt --age. */
export const RUNBOOK_AGE_RECIPIENT = 'age1aq8twfd78wvpra0had8cezcnj96tj4q0068edrz5jez8d6xwmflqdepsh4';
const LAST_MODIFIED = '2026-06-14T09:30:12Z';
const VERSION = '3.8.1';

type Tree = { [key: string]: string | Tree };

export interface SopsOptions {
  /** sops --encrypted-regex: only keys matching it (at any depth) are encrypted; default: everything. */
  encryptedRegex?: RegExp;
}

/** `value` encrypted as sops encrypts one leaf at `path`. */
export function encryptValue(key: Buffer, value: string, path: string[]): string {
  const iv = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${path.join(':')}:`));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${cipher.getAuthTag().toString('base64')},type:str]`;
}

function encryptTree(key: Buffer, tree: Tree, options: SopsOptions, path: string[] = [], inside = false): Tree {
  const out: Tree = {};
  for (const [name, value] of Object.entries(tree)) {
    const encrypt = inside || options.encryptedRegex === undefined || options.encryptedRegex.test(name);
    out[name] = typeof value === 'string' ? (encrypt ? encryptValue(key, value, [...path, name]) : value) : encryptTree(key, value, options, [...path, name], encrypt && options.encryptedRegex !== undefined);
  }
  return out;
}

function ageArmor(): string {
  const body = Buffer.concat([
    Buffer.from(`age-encryption.org/v1\n-> X25519 ${randomBytes(32).toString('base64').replace(/=+$/, '')}\n${randomBytes(32).toString('base64').replace(/=+$/, '')}\n--- ${randomBytes(32).toString('base64').replace(/=+$/, '')}\n`),
    randomBytes(48),
  ]).toString('base64');
  return `-----BEGIN AGE ENCRYPTED FILE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END AGE ENCRYPTED FILE-----\n`;
}

function metadata(key: Buffer, options: SopsOptions): Record<string, unknown> {
  return {
    kms: [], gcp_kms: [], azure_kv: [], hc_vault: [],
    age: [{ recipient: RUNBOOK_AGE_RECIPIENT, enc: ageArmor() }],
    lastmodified: LAST_MODIFIED,
    mac: encryptValue(key, randomBytes(32).toString('hex').toUpperCase(), ['sops', 'mac']),
    pgp: [],
    ...(options.encryptedRegex ? { encrypted_regex: options.encryptedRegex.source } : { unencrypted_suffix: '_unencrypted' }),
    version: VERSION,
  };
}

/** sops --encrypt of a YAML document (4-space indentation, as sops writes YAML). */
export function sopsYaml(document: Tree, options: SopsOptions = {}): string {
  const key = randomBytes(32);
  return stringify({ ...encryptTree(key, document, options), sops: metadata(key, options) }, { indent: 4, lineWidth: 0 });
}

export function sopsJson(document: Tree, options: SopsOptions = {}): string {
  const key = randomBytes(32);
  return `${JSON.stringify({ ...encryptTree(key, document, options), sops: metadata(key, options) }, null, '\t')}\n`;
}

/** sops --encrypt of a .env file: KEY=ENC[...] lines, then the metadata flattened into sops_* lines. */
export function sopsDotenv(values: Record<string, string>): string {
  const key = randomBytes(32);
  const lines = Object.entries(values).map(([name, value]) => `${name}=${encryptValue(key, value, [name])}`);
  const armor = ageArmor().replace(/\n/g, '\\n');
  lines.push(
    `sops_age__list_0__map_enc=${armor}`,
    `sops_age__list_0__map_recipient=${RUNBOOK_AGE_RECIPIENT}`,
    `sops_lastmodified=${LAST_MODIFIED}`,
    `sops_mac=${encryptValue(key, randomBytes(32).toString('hex').toUpperCase(), ['sops', 'mac'])}`,
    'sops_unencrypted_suffix=_unencrypted',
    `sops_version=${VERSION}`,
  );
  return `${lines.join('\n')}\n`;
}
