import { createConcurrencyLimit } from '../concurrency-limit.js';
import { loadChecks, type LoadedCheck } from '../config/load.js';
import { ConfigError } from '../config/problem.js';
import { createLogger } from '../log.js';
import type { Result } from '../result.js';
import { runCheck } from '../runner.js';
import { createServices, prepareServices } from '../services.js';
import { formatJunit } from './junit.js';
import { formatTable } from './table.js';
import { DEFAULT_CHECKS, parseCommandLine, parseLogLevel, parsePositiveInt, UsageError } from './options.js';
import { ensureWritable, writeReportFile } from './report-file.js';

export const RUN_HELP = `Usage: driftwatch run [options]

Runs the checks once, in parallel, prints a table (or JSON), and exits 0 when all pass,
1 when any fails (a check failing with reason config too: an unset env secret, no kubeconfig),
2 when it could not judge: bad usage, invalid check files, a --junit file it cannot write.
The post-deploy smoke gate.

Options:
  --checks PATH...    check files or folders of *.yaml: several after one --checks, or
                      --checks repeated (default: checks/)
  --only NAME,...     run only these checks
  --release TAG       the release under verification (k8s-rollout checks with tag: release)
  --json              print { ok, results: [...] } instead of the table
  --junit FILE        also write a JUnit XML report (for CI test reports)
  --concurrency N     checks at once (default 16)
  --log-level LEVEL   logs on stderr (default warn)
  -h, --help          this help
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      checks: { type: 'string', multiple: true },
      only: { type: 'string', multiple: true },
      release: { type: 'string' },
      json: { type: 'boolean', default: false },
      junit: { type: 'string' },
      concurrency: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const log = createLogger(parseLogLevel(values['log-level'], 'warn'));
  let checks: LoadedCheck[];
  try {
    checks = await loadChecks(values.checks ?? DEFAULT_CHECKS);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (only.length > 0) {
    const unknown = only.filter((name) => !checks.some((c) => c.spec.name === name));
    if (unknown.length > 0) throw new UsageError(`--only: no check named ${unknown.join(', ')}`);
    checks = checks.filter((c) => only.includes(c.spec.name));
  }
  if (values.junit !== undefined) await ensureWritable('--junit', values.junit);
  const services = createServices({ release: values.release });
  await prepareServices(services, checks.map((c) => c.spec));
  const limit = createConcurrencyLimit(parsePositiveInt(values.concurrency, '--concurrency', 16), Number.MAX_SAFE_INTEGER);
  const results: Result[] = await Promise.all(
    checks.map((check) =>
      limit.run(async () => (await runCheck(check.bound, { log: log.child({ check: check.spec.name, type: check.spec.type }), services })).result),
    ),
  );
  const ok = results.every((r) => r.ok);
  process.stdout.write(values.json ? `${JSON.stringify({ ok, results }, null, 2)}\n` : formatTable(results));
  if (values.junit !== undefined) await writeReportFile('--junit', values.junit, formatJunit(results));
  log.flush();
  return ok ? 0 : 1;
}
