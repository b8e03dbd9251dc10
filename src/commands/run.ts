import { createConcurrencyLimit } from '../scheduler/concurrency-limit.js';
import { checkTypes, type LoadedCheck } from '../checks/registry.js';
import { loadChecks } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import { ConfigError } from '../config/problem.js';
import { interruptExitCode, watchInterrupts } from '../gate/interrupt.js';
import { createProgress } from '../gate/progress.js';
import { findReleaseProblems } from '../gate/release-check.js';
import { formatJson } from '../gate/report.js';
import { selectChecks, splitNames } from '../gate/selection.js';
import { formatMarkdown } from '../gate/summary.js';
import { DEFAULT_EVERY_MS, formatSeconds, runGate } from '../gate/wait.js';
import { createLogger } from '../results/log.js';
import { runCheck } from '../runner/runner.js';
import { createServices, prepareServices } from '../runner/services.js';
import { guardPeerCrashes } from './crash-guard.js';
import { formatJunit } from './junit.js';
import { formatTable } from './table.js';
import { DEFAULT_CHECKS, parseCommandLine, parseLogLevel, parsePositiveInt, UsageError } from './options.js';
import { ensureWritable, writeReportFile } from './report-file.js';

export const RUN_HELP = `Usage: driftwatch run [options]

Runs the checks once, in parallel where dependsOn allows, prints a table (or JSON), and exits
0 when all pass, 1 when any fails (a check failing with reason config too: an unset env secret,
no kubeconfig), 2 when it could not judge: bad usage, invalid check files, a --junit or --summary
file it cannot write; 130 or 143 when SIGINT or SIGTERM stopped it before all passed (the report
is still printed and written). The post-deploy smoke gate. A check whose dependency fails is not run but
reported blocked (docs/gate.md).

Options:
  --checks PATH...    check files or folders of *.yaml: several after one --checks, or
                      --checks repeated (default: checks/)
  --only NAME,...     run only these checks (a dependency left out does not block)
  --release TAG       the release under verification: {release} in expectations, k8s-rollout tag: release
  --wait DURATION     rerun what fails (and what it blocks) until all pass or DURATION has passed
  --every DURATION    with --wait: the longest pause between reruns (default 10s; pauses start at 1s and double)
  --json              print { ok, summary, results: [...] } instead of the table
  --junit FILE        also write a JUnit XML report (for CI test reports)
  --summary FILE      also append a Markdown report (for CI job summaries: --summary "$GITHUB_STEP_SUMMARY")
  --concurrency N     checks at once (default 16)
  --log-level LEVEL   logs on stderr (default warn)
  -h, --help          this help
`;

export async function run(argv: string[]): Promise<number> {
  const startedAt = performance.now();
  const { values } = parseCommandLine({
    args: argv,
    options: {
      checks: { type: 'string', multiple: true },
      only: { type: 'string', multiple: true },
      release: { type: 'string' },
      json: { type: 'boolean', default: false },
      junit: { type: 'string' },
      summary: { type: 'string' },
      wait: { type: 'string' },
      every: { type: 'string' },
      concurrency: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const waiting = parseWaitOptions(values.wait, values.every);
  const log = createLogger(parseLogLevel(values['log-level'], 'warn'));
  let checks: LoadedCheck[];
  try {
    checks = await loadChecks(values.checks ?? DEFAULT_CHECKS, checkTypes);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  // Before --only: a selected check may refer to one that is not selected.
  const byName = new Map(checks.map((c) => [c.spec.name, c.spec]));
  const selected = selectChecks(checks, { names: splitNames(values.only ?? []) });
  if (selected.unknown !== undefined) throw new UsageError(`--only: no check named ${selected.unknown.join(', ')}`);
  checks = selected.checks;
  if (values.release === '') throw new UsageError('--release must not be empty (an unset variable in the pipeline?)');
  const releaseProblems = await findReleaseProblems(checks, values.release);
  if (releaseProblems.length > 0) {
    process.stderr.write(`${new ConfigError(releaseProblems).message}\n`);
    return 2;
  }
  if (values.junit !== undefined) await ensureWritable('--junit', values.junit);
  if (values.summary !== undefined) await ensureWritable('--summary', values.summary);
  const services = createServices({ release: values.release, lookupCheck: (name) => byName.get(name) });
  await prepareServices(services, checks.map((c) => c.spec));
  const limit = createConcurrencyLimit(parsePositiveInt(values.concurrency, '--concurrency', 16), Number.MAX_SAFE_INTEGER);
  const interruption = watchInterrupts();
  const unguard = guardPeerCrashes(log);
  try {
    const { signal } = interruption;
    const execute = (check: LoadedCheck) =>
      limit.run(async () => (await runCheck(check.bound, { log: log.child({ check: check.spec.name, type: check.spec.type }), services, signal })).result);
    const progress = waiting.waitMs > 0 ? createProgress(process.stderr) : undefined;
    const outcome = await runGate(checks, execute, { ...waiting, startedAt, signal, onRound: (round) => progress?.round(round) });
    progress?.done();
    const waited = waiting.waitMs > 0;
    const ok = outcome.checks.every((c) => c.result.ok);
    const { interrupted } = outcome;
    if (interrupted !== undefined) {
      process.stderr.write(`driftwatch run: interrupted by ${interrupted} after ${formatSeconds(outcome.elapsedMs)}: the report has each check's last result, runs in flight cancelled\n`);
    }
    process.stdout.write(values.json ? formatJson(outcome, { waited }) : formatTable(outcome.checks, { waited }));
    if (values.junit !== undefined) await writeReportFile('--junit', values.junit, formatJunit(outcome.checks, { waited }));
    // Appended: a job summary file collects what every step of the job writes.
    if (values.summary !== undefined) await writeReportFile('--summary', values.summary, formatMarkdown(outcome, { waited, release: values.release }), { append: true });
    log.flush();
    // Interrupted before all passed: no verdict on the release (nor a usage problem); the shell's code for the signal.
    if (ok) return 0;
    return interrupted === undefined ? 1 : interruptExitCode(interrupted);
  } finally {
    interruption.dispose();
    unguard();
  }
}

/** --wait DURATION and --every DURATION; without --wait, one round (--every alone is a usage error). */
export function parseWaitOptions(wait: string | undefined, every: string | undefined): { waitMs: number; everyMs: number } {
  const parse = (text: string, flag: string) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) throw new UsageError(`${flag} must be a duration such as 500ms, 30s, 5m or 1h, got "${text}"`);
    return ms;
  };
  if (wait === undefined && every !== undefined) throw new UsageError('--every needs --wait DURATION');
  return { waitMs: wait === undefined ? 0 : parse(wait, '--wait'), everyMs: every === undefined ? DEFAULT_EVERY_MS : parse(every, '--every') };
}
