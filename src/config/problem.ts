import type { z } from 'zod';

/** One problem in a check file, as `file:line:col: path: message`. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Every problem of a set of check files; thrown by loadChecks, printed by validate. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'DRIFTWATCH_INVALID_CONFIG';
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** `checks[3].expect.status` from ['checks', 3, 'expect', 'status']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Says what was received, briefly, for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ? String(value) : typeof value;
}

/** Walks a zod schema along a data path, to name the keys or values a place accepts. */
export function schemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[], data: unknown): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = schema;
  let value = data;
  for (const key of path) {
    current = unwrap(current, value);
    if (!current) return undefined;
    const def = current._zod.def;
    if (def.type === 'object' && typeof key === 'string') {
      current = (def as z.core.$ZodObjectDef).shape[key];
    } else if (def.type === 'array') {
      current = (def as z.core.$ZodArrayDef).element;
    } else if (def.type === 'record') {
      current = (def as z.core.$ZodRecordDef).valueType;
    } else {
      return undefined;
    }
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return unwrap(current, value);
}

function unwrap(schema: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    const def = current._zod.def;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') {
      current = (def as z.core.$ZodOptionalDef).innerType;
    } else if (def.type === 'pipe') {
      current = (def as z.core.$ZodPipeDef).in;
    } else if (def.type === 'union') {
      const options = (def as z.core.$ZodUnionDef).options;
      const disc = (def as { discriminator?: string }).discriminator;
      if (disc && value !== null && typeof value === 'object') {
        const wanted = (value as Record<string, unknown>)[disc];
        current = options.find((o) => o._zod.propValues?.[disc]?.has(wanted as never));
      } else {
        current = options.find((o) => o._zod.def.type === 'object');
      }
    } else {
      return current;
    }
  }
  return current;
}

/** The keys an object schema accepts, for "unknown key" messages. */
export function acceptedKeys(schema: z.core.$ZodType | undefined): string[] {
  if (schema?._zod.def.type !== 'object') return [];
  return Object.keys((schema._zod.def as z.core.$ZodObjectDef).shape);
}
