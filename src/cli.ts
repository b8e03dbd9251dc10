import { packageVersion, UsageError } from './commands/options.js';

// Commands load on demand: `validate` need not pay for fastify, `schema` not for pg.

const HELP = `Usage: driftwatch <command> [options]

Synthetic monitoring for deployment verification.

Commands:
  serve      run the checks on their schedules; /metrics, /probe, API, status page
  run        run the checks once (the post-deploy smoke gate): exit 0 all pass, 1 any fails, 2 bad config
  validate   validate check files (exit 2 on problems)
  schema     print the JSON Schema of the check file format
  import     translate a blackbox_exporter blackbox.yml into check files (import blackbox FILE)

driftwatch <command> --help for its options. driftwatch --version prints the version.
`;


/** The command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await (await import('./commands/serve.js')).serve(rest);
      case 'run':
        return await (await import('./commands/run.js')).run(rest);
      case 'validate':
        return await (await import('./commands/validate.js')).validate(rest);
      case 'schema':
        return (await import('./commands/schema.js')).schema(rest);
      case 'import':
        return await (await import('./commands/import.js')).importConfig(rest);
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
      const help = await helpFor(command);
      process.stderr.write(`driftwatch ${command ?? ''}: ${err instanceof Error ? err.message : String(err)}\n\n${help}`);
      return 2;
    }
    throw err;
  }
}

async function helpFor(command: string | undefined): Promise<string> {
  switch (command) {
    case 'serve':
      return (await import('./commands/serve.js')).SERVE_HELP;
    case 'run':
      return (await import('./commands/run.js')).RUN_HELP;
    case 'validate':
      return (await import('./commands/validate.js')).VALIDATE_HELP;
    case 'import':
      return (await import('./commands/import.js')).IMPORT_HELP;
    default:
      return HELP;
  }
}

function isParseArgsError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS');
}

const invokedDirectly = import.meta.url === `file://${process.argv[1] ?? ''}`;
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
