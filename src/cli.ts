import { run, RUN_HELP } from './commands/run.js';
import { schema } from './commands/schema.js';
import { serve, SERVE_HELP } from './commands/serve.js';
import { validate, VALIDATE_HELP } from './commands/validate.js';
import { packageVersion, UsageError } from './commands/options.js';

const HELP = `Usage: driftwatch <command> [options]

Synthetic monitoring for deployment verification.

Commands:
  serve      run the checks on their schedules; /metrics, /probe, API, status page
  run        run the checks once (the post-deploy smoke gate): exit 0 all pass, 1 any fails, 2 bad config
  validate   validate check files (exit 2 on problems)
  schema     print the JSON Schema of the check file format

driftwatch <command> --help for its options. driftwatch --version prints the version.
`;

const HELPS: Record<string, string> = { serve: SERVE_HELP, run: RUN_HELP, validate: VALIDATE_HELP };

/** The command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'run':
        return await run(rest);
      case 'validate':
        return await validate(rest);
      case 'schema':
        return schema(rest);
      case '--version':
      case '-v':
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`driftwatch: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      const help = command === undefined ? HELP : (HELPS[command] ?? HELP);
      process.stderr.write(`driftwatch ${command ?? ''}: ${err instanceof Error ? err.message : String(err)}\n\n${help}`);
      return 2;
    }
    throw err;
  }
}

function isParseArgsError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS');
}

const invokedDirectly = import.meta.url === `file://${process.argv[1] ?? ''}`;
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
