import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { z } from 'zod';

import { REDACTED, scrubForms } from '../results/secret-forms.js';

export type SecretRef = { env: string } | { file: string };

/**
 * A value that must never be shown. It prints as [secret] in every form (string, JSON,
 * util.inspect, template literal); only reveal() gives the value, read when a check runs so a
 * rotated file or variable is picked up without a reload.
 */
export class Secret {
  readonly #ref: SecretRef;
  readonly #seen = new Set<string>();
  readonly #forms = new Set<string>();

  constructor(ref: SecretRef) {
    this.#ref = ref;
  }

  /** The reference as written (not the value), to rebuild the secret on a run thread. */
  get ref(): SecretRef {
    return { ...this.#ref };
  }

  /** Where the value comes from, safe to show: "env HUB_TOKEN" or "file /run/x". */
  get source(): string {
    return 'env' in this.#ref ? `env ${this.#ref.env}` : `file ${this.#ref.file}`;
  }

  async reveal(): Promise<string> {
    let value: string;
    if ('env' in this.#ref) {
      const found = process.env[this.#ref.env];
      if (found === undefined) throw new SecretUnavailableError(`secret from ${this.source} is not set`);
      value = found;
    } else {
      try {
        value = (await readFile(this.#ref.file, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        const code = err instanceof Error && 'code' in err ? String(err.code) : 'unknown error';
        throw new SecretUnavailableError(`secret from ${this.source} cannot be read (${code})`);
      }
    }
    this.remember(value);
    return value;
  }

  /**
   * Records a value made from this secret (the `Basic BASE64(user:password)` header built from a
   * password), so outputs are scrubbed of it and its forms too: a target echoing the header
   * would otherwise show a credential that contains the secret only encoded.
   */
  remember(value: string): void {
    if (value === '' || this.#seen.has(value)) return;
    this.#seen.add(value);
    for (const form of scrubForms(value)) this.#forms.add(form);
  }

  /** Every value this secret has revealed. */
  revealedValues(): Iterable<string> {
    return this.#seen;
  }

  /** What outputs are scrubbed of: every revealed value in each form a target may echo it (see scrubForms). */
  scrubbedForms(): Iterable<string> {
    return this.#forms;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Thrown when a secret reference cannot be resolved; the runner reports it as reason config. */
export class SecretUnavailableError extends Error {
  readonly code = 'DRIFTWATCH_SECRET_UNAVAILABLE';
  override name = 'SecretUnavailableError';
}

export const secretRef = z
  .union(
    [
      z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name: letters, digits and _, like HUB_TOKEN') }),
      z.strictObject({ file: z.string().min(1) }),
    ],
    { error: 'expected a secret reference: { env: NAME } or { file: /path } (secrets are never written inline)' },
  )
  .meta({ description: 'a secret reference: { env: NAME } or { file: /path }; never written inline' })
  .transform((ref) => new Secret(ref));

/**
 * Request headers that carry credentials, whose values are refused inline (a reference is
 * required): Authorization, Proxy-Authorization, Cookie, and any name containing auth, token,
 * secret, password/passwd, api-key/apikey, session, cookie or credential, or ending in -key /
 * _key (X-Api-Key, X-Auth-Token, Private-Token, Ocp-Apim-Subscription-Key). docs/security.md.
 */
export function isCredentialHeader(name: string): boolean {
  return /auth|token|secret|passw(?:or)?d|api-?key|session|cookie|credential|(?:^|[-_])key$/i.test(name);
}

/** A string that may be given inline or, when sensitive, as a secret reference. */
export const stringOrSecret = z.union([z.string(), secretRef]);

export async function resolveValue(value: string | Secret): Promise<string> {
  return typeof value === 'string' ? value : value.reveal();
}

/** Collects the Secret instances anywhere inside a parsed check spec. */
export function secretsIn(value: unknown, found: Secret[] = []): Secret[] {
  if (value instanceof Secret) found.push(value);
  else if (Array.isArray(value)) for (const item of value) secretsIn(item, found);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) secretsIn(item, found);
  return found;
}

/** Replaces every revealed secret value, in each form of scrubForms, inside strings of a JSON-like value with [secret]. */
export function scrub<T>(value: T, secrets: readonly Secret[]): T {
  const forms = [...new Set(secrets.flatMap((s) => [...s.scrubbedForms()]))];
  if (forms.length === 0) return value;
  // Longest first, so a whole value goes before the credential inside it.
  return scrubWith(value, forms.sort((a, b) => b.length - a.length)) as T;
}

function scrubWith(value: unknown, forms: readonly string[]): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  }
  if (Array.isArray(value)) return value.map((item) => scrubWith(item, forms));
  if (value !== null && typeof value === 'object' && !(value instanceof Secret)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubWith(v, forms)]));
  }
  return value;
}
