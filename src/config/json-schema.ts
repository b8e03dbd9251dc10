import { z } from 'zod';
import { defaultsSchema } from './base.js';
import type { CheckTypes } from './check-types.js';

/** The check file format as JSON Schema, generated from the same zod schemas the loader uses. */
export function checkFileJsonSchema(types: Pick<CheckTypes, 'schema'>): Record<string, unknown> {
  const file = z.strictObject({ defaults: defaultsSchema.optional(), checks: z.array(types.schema) }).meta({
    title: 'driftwatch check file',
    description: 'Declarative checks for driftwatch (see README: check file reference).',
  });
  return z.toJSONSchema(file, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
}
