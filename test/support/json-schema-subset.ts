/**
 * A validator for the subset of JSON Schema (draft-07) that charts/driftwatch/values.schema.json
 * uses, so the chart test can check values files the way `helm install` does (Helm validates with
 * gojsonschema) without a JSON Schema library in the project. A keyword outside the subset is an
 * error, not ignored: the schema cannot grow a rule this validator silently skips.
 */

type Schema = Record<string, unknown>;

const KNOWN = new Set(['$schema', 'title', 'description', 'type', 'properties', 'patternProperties', 'additionalProperties', 'required', 'enum', 'items', 'minimum', 'maximum', 'minLength', 'pattern']);

/** Every problem of `value` against `schema`, each as `path: message` (path `(root)` at the top). */
export function validateJsonSchema(schema: unknown, value: unknown, path = '(root)'): string[] {
  const s = asSchema(schema, path);
  const errors: string[] = [];
  const types = typeList(s.type);
  if (types && !types.some((t) => hasType(value, t))) {
    return [`${path}: expected ${types.join(' or ')}, got ${describe(value)}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((option) => option === value)) {
    errors.push(`${path}: must be one of ${s.enum.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') errors.push(...stringProblems(s, value, path));
  if (typeof value === 'number') errors.push(...numberProblems(s, value, path));
  if (Array.isArray(value) && s.items !== undefined) {
    value.forEach((item, i) => errors.push(...validateJsonSchema(s.items, item, `${path}[${i}]`)));
  }
  if (isObject(value)) errors.push(...objectProblems(s, value, path));
  return errors;
}

function asSchema(schema: unknown, path: string): Schema {
  if (!isObject(schema)) throw new Error(`schema at ${path} is not an object`);
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`schema at ${path} uses ${unknown.join(', ')}, which this validator does not implement`);
  return schema;
}

function typeList(type: unknown): string[] | undefined {
  if (type === undefined) return undefined;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return type;
  throw new Error(`schema type must be a string or a list of strings, got ${JSON.stringify(type)}`);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'null':
      return value === null;
    default:
      throw new Error(`unknown JSON Schema type "${type}"`);
  }
}

function stringProblems(s: Schema, value: string, path: string): string[] {
  const errors: string[] = [];
  if (typeof s.minLength === 'number' && value.length < s.minLength) errors.push(`${path}: must be at least ${s.minLength} characters`);
  if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${path}: must match ${s.pattern}, got ${JSON.stringify(value)}`);
  return errors;
}

function numberProblems(s: Schema, value: number, path: string): string[] {
  const errors: string[] = [];
  if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${path}: must be >= ${s.minimum}, got ${value}`);
  if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${path}: must be <= ${s.maximum}, got ${value}`);
  return errors;
}

function objectProblems(s: Schema, value: Record<string, unknown>, path: string): string[] {
  const errors: string[] = [];
  const properties = isObject(s.properties) ? s.properties : {};
  const patterns = Object.entries(isObject(s.patternProperties) ? s.patternProperties : {}).map(([p, sub]) => [new RegExp(p, 'u'), sub] as const);
  if (Array.isArray(s.required)) {
    for (const key of s.required.map(String)) if (!(key in value)) errors.push(`${path}: ${key} is required`);
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '(root)' ? key : `${path}.${key}`;
    let matched = false;
    if (key in properties) {
      matched = true;
      errors.push(...validateJsonSchema(properties[key], child, childPath));
    }
    for (const [pattern, sub] of patterns) {
      if (!pattern.test(key)) continue;
      matched = true;
      errors.push(...validateJsonSchema(sub, child, childPath));
    }
    if (matched || s.additionalProperties === undefined || s.additionalProperties === true) continue;
    if (s.additionalProperties === false) errors.push(`${childPath}: unknown key (allowed: ${[...Object.keys(properties), ...patterns.map(([p]) => p.source)].join(', ')})`);
    else errors.push(...validateJsonSchema(s.additionalProperties, child, childPath));
  }
  return errors;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : typeof value;
}
