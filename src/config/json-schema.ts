import { z } from 'zod';
import { checkSchema } from '../checks/registry.js';
import { defaultsSchema } from './base.js';

/** The check file format as JSON Schema, generated from the same zod schemas the loader uses. */
export function checkFileJsonSchema(): Record<string, unknown> {
  const file = z.strictObject({ defaults: defaultsSchema.optional(), checks: z.array(checkSchema) }).meta({
    title: 'driftwatch check file',
    description: 'Declarative checks for driftwatch (see README: check file reference).',
  });
  return z.toJSONSchema(file, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
}
