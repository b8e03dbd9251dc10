/**
 * Plain functions over values files, schemas and check files for the chart tests: reading
 * untyped YAML safely, Helm's values coalescing, and what a check file references.
 */

/** The { env: NAME } and { file: PATH } secret references and the ca: files of a check file. */
export function secretRefs(value: unknown, key = ''): { envs: string[]; files: string[] } {
  if (Array.isArray(value)) return combine(value.map((v) => secretRefs(v)));
  if (!isRecord(value)) return key === 'ca' && typeof value === 'string' ? { envs: [], files: [value] } : { envs: [], files: [] };
  const keys = Object.keys(value);
  if (keys.length === 1 && typeof value.env === 'string') return { envs: [value.env], files: [] };
  if (keys.length === 1 && typeof value.file === 'string') return { envs: [], files: [value.file] };
  return combine(Object.entries(value).map(([k, v]) => secretRefs(v, k)));
}

function combine(parts: { envs: string[]; files: string[] }[]): { envs: string[]; files: string[] } {
  return { envs: parts.flatMap((p) => p.envs), files: parts.flatMap((p) => p.files) };
}

/** Paths of the schema's values that have no sub-properties of their own: the documented values. */
export function schemaLeaves(schema: unknown, prefix = ''): string[] {
  const properties = record(record(schema).properties);
  if (Object.keys(properties).length === 0) return [prefix];
  return Object.entries(properties).flatMap(([key, sub]) => schemaLeaves(sub, prefix ? `${prefix}.${key}` : key));
}

export function hasPath(values: unknown, path: string[]): boolean {
  const [head, ...rest] = path;
  if (head === undefined) return true;
  const node = record(values);
  return head in node && hasPath(node[head], rest);
}

/** Helm's coalescing of a values file over the defaults: maps merge, null deletes, the rest replaces. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = new Map(Object.entries(base));
  for (const [key, value] of Object.entries(over)) {
    const old = out.get(key);
    if (value === null) out.delete(key);
    else if (isRecord(old) && isRecord(value)) out.set(key, merge(old, value));
    else out.set(key, value);
  }
  return Object.fromEntries(out);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
