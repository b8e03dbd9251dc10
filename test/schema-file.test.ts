import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CHECK_TYPES, checkTypes } from '../src/checks/registry.js';
import { checkFileJsonSchema } from '../src/config/json-schema.js';

describe('driftwatch.schema.json', () => {
  it('is the schema `driftwatch schema` prints today (regenerate: node bin/driftwatch.js schema > driftwatch.schema.json)', async () => {
    const shipped: unknown = JSON.parse(await readFile(new URL('../driftwatch.schema.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(checkFileJsonSchema(checkTypes));
  });

  it('describes every check type with its keys, for editors', () => {
    const schema = checkFileJsonSchema(checkTypes) as { properties: { checks: { items: { oneOf: { properties: Record<string, { const?: string }>; required: string[] }[] } } } };
    const options = schema.properties.checks.items.oneOf;
    expect(options.map((o) => o.properties.type?.const).sort()).toEqual([...CHECK_TYPES].sort());
    for (const option of options) {
      expect(option.required).toEqual(expect.arrayContaining(['name', 'type']));
      expect(Object.keys(option.properties)).toEqual(expect.arrayContaining(['name', 'interval', 'schedule', 'timeout', 'labels']));
    }
  });
});
