import { checkTypes } from '../checks/registry.js';
import { listCheckFiles, loadChecks } from '../config/load.js';
import { ConfigError } from '../config/problem.js';
import { DEFAULT_CHECKS, parseCommandLine } from './options.js';

export const VALIDATE_HELP = `Usage: driftwatch validate [--checks PATH...]

Validates check files (several after one --checks, or --checks repeated; default: checks/)
and reports every problem as file:line:col: path: message.
Exits 0 when valid, 2 when not.
`;

export async function validate(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({ args: argv, options: { checks: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }
  const paths = values.checks ?? DEFAULT_CHECKS;
  try {
    const checks = await loadChecks(paths, checkTypes);
    const files = await listCheckFiles(paths);
    process.stdout.write(`ok: ${checks.length} checks in ${files.length} file${files.length === 1 ? '' : 's'}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n`);
    return 2;
  }
}
