import type { z } from 'zod';
import { acceptedKeys, describeValue, formatPath, schemaAt, type Problem } from './problem.js';

/** Line and column of the node at a data path (of the key itself with atKey). */
export type Locate = (path: readonly PropertyKey[], atKey?: boolean) => { line: number; col: number };

/**
 * zod issues as located problems; placeOf maps an issue's path to where it is reported.
 * `typeNames` are the check types, named when a check's type is missing or unknown.
 */
export function toProblems(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  schema: z.core.$ZodType,
  data: unknown,
  placeOf: (path: readonly PropertyKey[]) => PropertyKey[],
  where: Locate,
  typeNames: readonly string[] = [],
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = placeOf(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const accepted = acceptedKeys(schemaAt(schema, issue.path, data));
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        problems.push({ file, ...where(keyPath, true), path: formatPath(keyPath), message: `unknown key "${key}"${accepted.length ? ` (accepted: ${accepted.join(', ')})` : ''}` });
      }
      continue;
    }
    const received = valueAt(data, issue.path);
    problems.push({ file, ...where(path, received === undefined || issue.code === 'invalid_key'), path: formatPath(path), message: describeIssue(issue, received, typeNames) });
  }
  return problems;
}

/** The final message of an issue: what is wanted, then what was there. */
function describeIssue(issue: z.core.$ZodIssue, received: unknown, typeNames: readonly string[]): string {
  switch (issue.code) {
    case 'invalid_union': {
      if ('note' in issue && issue.note === 'No matching discriminator') {
        const types = typeNames.join(', ');
        return received === undefined ? `missing check type (accepted: ${types})` : `unknown check type ${describeValue(received)} (accepted: ${types})`;
      }
      // Never echo the value: a union is where secret references live, and an inline secret must not be printed.
      return received === undefined ? `required (${issue.message})` : issue.message;
    }
    case 'invalid_key':
      return issue.issues.map((i) => i.message).join('; ');
    case 'custom':
      // Custom messages say what they need to, the value included where it helps.
      return issue.message;
    default:
      return received === undefined ? `required (${issue.message.replace(/^expected /, '')})` : `${issue.message} (got ${describeValue(received)})`;
  }
}

/**
 * Words for zod's own messages, given to every parse as its error map: a schema's own message
 * still wins. Each says what is wanted; the value seen is added by describeIssue.
 */
export const describeRawIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' && typeof issue.input === 'string' && issue.input.trim() !== '' && Number.isFinite(Number(issue.input))) {
        return 'expected a number, written without quotes';
      }
      return `expected ${noun(issue.expected)}`;
    case 'too_big':
      return limit('at most', 'less than', issue.origin, Number(issue.maximum), issue.inclusive !== false);
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if ((issue.origin === 'array' || issue.origin === 'set') && Number(issue.minimum) === 1) return 'must list at least one item';
      return limit('at least', 'more than', issue.origin, Number(issue.minimum), issue.inclusive !== false);
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return FORMATS[issue.format] ?? (issue.format === 'regex' && 'pattern' in issue && typeof issue.pattern === 'string' ? `must match ${issue.pattern}` : `expected ${issue.format} format`);
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return describeUnion(issue.errors);
    default:
      return undefined;
  }
};

const FORMATS: Record<string, string> = {
  url: 'expected a URL like https://hub.example.com/health',
  ipv4: 'expected an IPv4 address like 203.0.113.10',
  ipv6: 'expected an IPv6 address like 2001:db8::10',
  email: 'expected an email address',
};

function noun(type: string): string {
  switch (type) {
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
    case 'map':
      return 'a mapping';
    case 'null':
    case 'undefined':
      return type;
    default:
      return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
  }
}

function limit(inclusive: string, exclusive: string, origin: string, bound: number, isInclusive: boolean): string {
  const than = `${isInclusive ? inclusive : exclusive} ${bound}`;
  if (origin === 'string') return `must be ${than} characters long`;
  if (origin === 'array' || origin === 'set') return `must have ${than} items`;
  return `must be ${than}`;
}

/**
 * None of a union's options took the value. The options of its kind (an issue deeper than
 * "expected a string") say what is wrong; else name what each option would take.
 */
function describeUnion(errors: readonly (readonly z.core.$ZodIssue[])[]): string {
  const shapeOnly = (issues: readonly z.core.$ZodIssue[]) => issues.every((i) => i.code === 'invalid_type' && i.path.length === 0);
  const near = errors.filter((issues) => !shapeOnly(issues));
  const messages = [...new Set((near.length > 0 ? near : errors).map((issues) => issues[0]?.message).filter((m) => m !== undefined))];
  // "expected a string or expected a list" reads better as "expected a string or a list".
  return messages.map((m, i) => (i > 0 && messages.every((each) => each.startsWith('expected ')) ? m.slice('expected '.length) : m)).join(' or ');
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
