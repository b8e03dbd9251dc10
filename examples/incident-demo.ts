/**
 * `npm run demo`: the stale-DNS incident of the inter-hub runbook, replayed on loopback with
 * nothing but `npm install`. Starts the incident world (incident-world.ts) and a real driftwatch
 * daemon with its API and status page on 127.0.0.1, shows the incident (verdict dns-drift),
 * repoints DNS to the ingress and shows it healthy, then runs until Ctrl-C. Everything it
 * starts is stopped on Ctrl-C, SIGTERM and errors; it never calls process.exit on the way, so
 * a clean exit also proves nothing was left open.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApi } from '../src/api/server.js';
import { packageVersion } from '../src/commands/options.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { createLogger } from '../src/results/log.js';
import type { Result } from '../src/results/result.js';
import { writeDemoChecks } from './demo-checks.js';
import { isFree, waitForEnter, watchSignals } from './demo-controls.js';
import { bold, describeResults, dim, intro, say, verdictOf, whereToLook, withoutOnce, wrap } from './demo-story.js';
import { HUB_HOSTNAME, INGRESS_IP, startIncidentWorld } from './incident-world.js';

const HELP = `Usage: npm run demo [-- options]

Replays the stale-DNS incident on loopback: DNS points hub.coulomb.social at a stale host,
driftwatch says dns-drift; DNS is repointed to the ingress, driftwatch says healthy.

Options:
  --once          show the incident and the fix, then stop (no waiting, for scripts and CI)
  --no-repoint    keep the incident running until Ctrl-C
  --port N        port of the driftwatch API and status page on 127.0.0.1 (default 9147,
                  or a free one when 9147 is taken)
  --repoint-after SECONDS   how long the incident shows before DNS is fixed (default 30;
                  Enter fixes it at once)
  -h, --help      this help
`;

/** The check whose verdict tells the story. */
const HEADLINE = 'hub-ingress-hubs';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Closer {
  what: string;
  close(): Promise<void>;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'number') return options;
  const stop = watchSignals();
  const opened: Closer[] = [];
  let code: number;
  try {
    code = await play(options, stop.signal, opened);
  } catch (err) {
    process.stderr.write(`incident-demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
  if (!(await closeAll(opened))) code = 1;
  stop.dispose();
  return code;
}

/** The options, or the exit code when there is nothing to play (help: 0, bad usage: 2). */
function parseOptions(argv: string[]): PlayOptions | number {
  const usage = (message: string) => {
    process.stderr.write(`incident-demo: ${message}\n\n${HELP}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        once: { type: 'boolean', default: false },
        'no-repoint': { type: 'boolean', default: false },
        port: { type: 'string', default: '9147' },
        'repoint-after': { type: 'string', default: '30' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) {
    say(HELP);
    return 0;
  }
  const port = Number(values.port);
  const repointAfterS = Number(values['repoint-after']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port takes 0 to 65535, got "${values.port}"`);
  if (!(repointAfterS >= 0 && repointAfterS <= 3600)) return usage(`--repoint-after takes 0 to 3600 seconds, got "${values['repoint-after']}"`);
  return { once: values.once, repoint: !values['no-repoint'], port, repointAfterMs: repointAfterS * 1000 };
}

interface PlayOptions {
  once: boolean;
  repoint: boolean;
  port: number;
  repointAfterMs: number;
}

/** The story; everything it starts goes into `opened` as soon as it runs. */
async function play(options: PlayOptions, stop: AbortSignal, opened: Closer[]): Promise<number> {
  const world = await startIncidentWorld();
  opened.push({ what: `HTTPS servers and DNS server; removed ${world.dir}`, close: () => world.close() });
  const checksFile = await writeDemoChecks(world);
  // The daemon's JSON logs go to stderr; only warnings, so they do not drown the story.
  const log = createLogger('warn');
  const daemon = createDaemon({ checkPaths: [checksFile], log, probeConcurrency: 16 });
  await daemon.load();
  const api = buildApi({ daemon, log, version: packageVersion() });
  await api.listen({ host: '127.0.0.1', port: (await isFree('127.0.0.1', options.port)) ? options.port : 0 });
  opened.push({ what: 'status page and API', close: () => api.close() });
  daemon.start();
  opened.push({ what: 'daemon (scheduled checks)', close: () => daemon.stop(2000) });
  const listening = api.server.address();
  const daemonUrl = `http://127.0.0.1:${typeof listening === 'object' && listening !== null ? listening.port : options.port}`;
  // Read through a function: a signal may arrive during any await (TypeScript would narrow a plain read).
  const stopped = () => stop.aborted;
  if (stopped()) return 0;

  say(...intro(world, daemonUrl, checksFile, options.once));
  say(bold(`1. The incident: public DNS still points ${HUB_HOSTNAME} at the stale host`), '');
  const incident = await runAll(daemon);
  say(...describeResults(incident, HEADLINE));
  say(wrap('dns-drift, not ingress-down: the ingress is fine; fix the A record, not the deploy.', 2), '');
  say(...(options.once ? withoutOnce() : whereToLook(daemonUrl, runCommand(checksFile), await verdictSeries(daemon))));

  let fixed: Result[] | undefined;
  if (options.repoint && !stopped()) {
    if (!options.once) {
      say(dim(`Repointing DNS in ${options.repointAfterMs / 1000}s: press Enter to do it now, Ctrl-C to stop the demo.`), '');
      await waitForEnter(options.repointAfterMs, stop);
    }
    if (stopped()) return 0;
    world.repoint(INGRESS_IP);
    // The http and openapi checks stand in for the system resolver with resolve: (see demo-checks.ts).
    await writeDemoChecks(world);
    await daemon.reload();
    say(bold(`2. The fix: ${HUB_HOSTNAME} A ${INGRESS_IP}, the ingress`), '');
    fixed = await runAll(daemon);
    say(...describeResults(fixed, HEADLINE));
  }
  const problem = offScript(incident, fixed);
  if (problem !== undefined) {
    process.stderr.write(`incident-demo: the demo did not go as scripted: ${problem}\n`);
    return 1;
  }
  if (!options.once && !stopped()) {
    say(`${options.repoint ? 'The daemon keeps checking' : 'The incident keeps running (--no-repoint)'}: every check every 5s, ${daemonUrl}/`);
    say(dim('Ctrl-C stops everything.'), '');
    await new Promise<void>((resolve) => {
      stop.addEventListener('abort', () => {
        resolve();
      }, { once: true });
    });
  }
  return 0;
}

/** Closes in reverse order of opening (daemon, API, world); every closer runs. False when one failed. */
async function closeAll(opened: Closer[]): Promise<boolean> {
  let ok = true;
  say('Stopping:');
  for (const closer of opened.reverse()) {
    try {
      await closer.close();
      say(`  stopped ${closer.what}`);
    } catch (err) {
      ok = false;
      process.stderr.write(`incident-demo: could not stop ${closer.what}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  say('Demo stopped.');
  return ok;
}

/** Runs every check now, through the daemon (as POST /api/v1/checks/NAME/run does). */
async function runAll(daemon: Daemon): Promise<Result[]> {
  const runs = await Promise.all(daemon.state.all().map((entry) => daemon.runNow(entry.check.spec.name)));
  return runs.map((run) => run.result);
}

/** What Prometheus scrapes for the headline check's verdict. */
async function verdictSeries(daemon: Daemon): Promise<string | undefined> {
  const text = await daemon.renderMetrics();
  return text.split('\n').find((line) => line.startsWith('driftwatch_ingress_verdict{') && line.includes(`check="${HEADLINE}"`));
}

/** The CLI from this checkout, runnable right after `npm install` (bin/driftwatch.js needs `npm run build`). */
function runCommand(checksFile: string): string {
  const here = relative(process.cwd(), ROOT);
  return `${here === '' ? '' : `cd ${ROOT} && `}npx tsx src/cli.ts run --checks ${checksFile}`;
}

/** Says what went wrong when the world did not behave as the story tells it (the --once self-check). */
function offScript(incident: readonly Result[], fixed: readonly Result[] | undefined): string | undefined {
  const before = incident.find((r) => r.name === HEADLINE);
  const verdictBefore = before && verdictOf(before)?.verdict;
  if (verdictBefore !== 'dns-drift') return `${HEADLINE} said ${verdictBefore ?? 'nothing'} during the incident, expected dns-drift`;
  const failing = (fixed ?? []).filter((r) => !r.ok).map((r) => r.name);
  if (failing.length > 0) return `after the fix ${failing.join(', ')} still fail`;
  return undefined;
}

process.exitCode = await main(process.argv.slice(2));
