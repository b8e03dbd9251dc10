import { CommandError, packageVersion, UsageError } from './commands/options.js';

// Commands load on demand: `validate` need not pay for fastify, `schema` not for pg.

const HELP = `Usage: driftwatch <command> [options]

Synthetic monitoring for deployment verification.

Commands:
  serve      run the checks on their schedules; /metrics, /probe, API, status page
  run        run the checks once (the post-deploy smoke gate): exit 0 all pass, 1 any fails,
             2 could not judge (bad usage, invalid check files, a report it cannot write)
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
        process.stderr.write(`driftwatch: unknown command "${command}" (commands: serve, run, validate, schema, import; see driftwatch --help)\n`);
        return 2;
    }
  } catch (err) {
    // One line and exit 2 for whatever stopped the command before it could answer: for `run`,
    // exit 1 means "a check failed", and a typo in CI must not read as a failed deploy.
    const where = command === undefined ? 'driftwatch' : `driftwatch ${command}`;
    if (err instanceof UsageError) process.stderr.write(`${where}: ${err.message} (see ${where} --help)\n`);
    else if (err instanceof CommandError) process.stderr.write(`${where}: ${err.message}\n`);
    // Not a problem of the user's making: a bug, whose report needs the stack.
    else process.stderr.write(`${where}: unexpected error (a bug: please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 2;
  }
}

const invokedDirectly = import.meta.url === `file://${process.argv[1] ?? ''}`;
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
