import { checkTypes } from '../checks/registry.js';
import { checkFileJsonSchema } from '../config/json-schema.js';

export const SCHEMA_HELP = `Usage: driftwatch schema

Prints the JSON Schema of the check file format, for editors (YAML language server:
# yaml-language-server: $schema=./driftwatch.schema.json).
`;

export function schema(argv: string[]): number {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(SCHEMA_HELP);
    return 0;
  }
  if (argv.length > 0) {
    process.stderr.write(`driftwatch schema takes no arguments\n\n${SCHEMA_HELP}`);
    return 2;
  }
  process.stdout.write(`${JSON.stringify(checkFileJsonSchema(checkTypes), null, 2)}\n`);
  return 0;
}
