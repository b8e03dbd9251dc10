import type { CheckSpec } from '../checks/registry.js';
import { Secret } from './secret.js';

/**
 * The spec as a string that differs whenever the spec does, to tell an unchanged check on reload.
 * JSON alone would not do: a Secret prints as [secret], so `{ env: A }` and `{ env: B }` would
 * look the same; here a Secret stands as its source.
 */
export function specKey(spec: CheckSpec): string {
  return JSON.stringify(spec, function (this: unknown, key: string, value: unknown) {
    const raw: unknown = this !== null && typeof this === 'object' ? Reflect.get(this, key) : undefined;
    return raw instanceof Secret ? { secret: raw.source } : value;
  });
}
