import type { z } from 'zod';
import { CHECK_TYPES } from '../checks/registry.js';
import { acceptedKeys, describeValue, formatPath, schemaAt, type Problem } from './problem.js';

/** Line and column of the node at a data path (of the key itself with atKey). */
export type Locate = (path: readonly PropertyKey[], atKey?: boolean) => { line: number; col: number };

/** zod issues as located problems; placeOf maps an issue's path to where it is reported. */
export function toProblems(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  schema: z.core.$ZodType,
  data: unknown,
  placeOf: (path: readonly PropertyKey[]) => PropertyKey[],
  where: Locate,
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
    problems.push({ file, ...where(path, received === undefined || issue.code === 'invalid_key'), path: formatPath(path), message: describeIssue(issue, received) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, received: unknown): string {
  switch (issue.code) {
    case 'invalid_union': {
      if ('note' in issue && issue.note === 'No matching discriminator') {
        const types = CHECK_TYPES.join(', ');
        return received === undefined ? `missing check type (accepted: ${types})` : `unknown check type ${describeValue(received)} (accepted: ${types})`;
      }
      // Never echo the value: a union is where secret references live, and an inline secret must not be printed.
      return received === undefined ? `required (${issue.message})` : issue.message;
    }
    case 'invalid_type':
      return received === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${describeValue(received)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(received)}`;
    case 'invalid_key':
      return `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`;
    case 'custom':
      return issue.message;
    default:
      return received === undefined ? issue.message : `${issue.message} (got ${describeValue(received)})`;
  }
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
