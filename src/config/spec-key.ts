import { hash } from 'node:crypto';
import { secretsIn } from './secret.js';

/**
 * A digest of the spec that differs whenever the spec does, to tell an unchanged check on reload.
 * JSON alone would not do: a Secret prints as [secret], so `{ env: A }` and `{ env: B }` would
 * look the same; the sources of its secrets, in the order JSON meets them, follow the JSON.
 * (A replacer function doing the same made JSON.stringify 2-5x slower: 10,000 checks per reload.)
 * The key is kept for the life of the check, so it is the SHA-256 of that text (44 characters)
 * rather than the text: JSON.stringify's result is a rope of its pieces, some 500 bytes of heap
 * per check for the JSON of a plain http check.
 */
export function specKey(spec: object): string {
  const sources = secretsIn(spec).map((secret) => secret.source);
  return hash('sha256', sources.length === 0 ? JSON.stringify(spec) : `${JSON.stringify(spec)}\n${sources.join('\n')}`, 'base64');
}
