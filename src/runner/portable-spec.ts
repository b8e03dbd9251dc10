import type { CheckSpec } from '../checks/registry.js';
import { Secret, type SecretRef } from '../config/secret.js';
import { specKey } from '../config/spec-key.js';

/**
 * A check spec as text a run thread can rebuild it from. A spec is plain data (zod's output:
 * strings, numbers, lists, objects) except its Secret instances, which print as [secret]; here
 * they are written as their reference (`{ env: NAME }`, `{ file: PATH }`, never a value), so the
 * thread reads the secret itself when the check runs, as the main thread would.
 */
const SECRET = '$driftwatchSecret';

export function portableSpec(spec: CheckSpec): string {
  return JSON.stringify(spec, function (this: unknown, key: string, value: unknown) {
    // The holder's own property, before Secret.toJSON turned it into [secret].
    const raw = isRecord(this) ? this[key] : undefined;
    return raw instanceof Secret ? { [SECRET]: raw.ref } : value;
  });
}

/**
 * The spec back from portableSpec's text, or undefined when it does not come out as the spec
 * whose key is `key` (the one check the caller holds): a spec the text cannot carry exactly
 * (a value JSON loses) then runs on the main thread instead of running as something else.
 */
export function specFromPortable(text: string, key: string): CheckSpec | undefined {
  const value: unknown = JSON.parse(text, (_key, item: unknown) => {
    const ref = isRecord(item) ? secretRef(item[SECRET]) : undefined;
    return ref === undefined ? item : new Secret(ref);
  });
  return isSpecWithKey(value, key) ? value : undefined;
}

/**
 * The key is JSON.stringify of the spec and the sources of its secrets: the same key means the
 * same fields, values and secret references, so the rebuilt object is the spec it was made from.
 */
function isSpecWithKey(value: unknown, key: string): value is CheckSpec {
  return isRecord(value) && typeof value.name === 'string' && typeof value.type === 'string' && specKey(value) === key;
}

function secretRef(value: unknown): SecretRef | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value.env === 'string') return { env: value.env };
  if (typeof value.file === 'string') return { file: value.file };
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
