import { parseArgs } from 'node:util';
import { buildApi } from '../api/server.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { ConfigError } from '../config/problem.js';
import { createDaemon, DEFAULT_PROBE_CONCURRENCY } from '../daemon.js';
import { createLogger } from '../log.js';
import { DEFAULT_CHECKS, packageVersion, parseLogLevel, parsePositiveInt, parseShardOption, readApiToken, UsageError } from './options.js';

export const SERVE_HELP = `Usage: driftwatch serve [options]

Runs the checks on their schedules, exports /metrics, serves the API and status page.

Options:
  --checks PATH         check file or folder of *.yaml (repeatable; default: checks/)
  --listen HOST:PORT    address to listen on (default 0.0.0.0:9147)
  --shard I/N           keep only the checks that hash to shard I of N (or ordinal/N: I from the
                        StatefulSet pod name in $HOSTNAME)
  --location NAME       label every series with location="NAME" (vantage point)
  --release TAG         the release under verification (k8s-rollout tag: release)
  --api-token-file F    require this bearer token on /probe and POST routes
                        (or DRIFTWATCH_API_TOKEN)
  --concurrency N       scheduled runs at once (default 64)
  --probe-concurrency N on-demand runs at once (default 64; a quarter of them for one check
                        and target, the rest wait within their own deadline)
  --grace DURATION      on SIGTERM, how long running checks may finish (default 10s)
  --log-level LEVEL     fatal, error, warn, info (default), debug, trace, silent
  -h, --help            this help

Signals: SIGHUP reloads the check files (an invalid file keeps the old checks); SIGTERM and
SIGINT stop scheduling, let running checks finish within --grace, and close the server.
`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      checks: { type: 'string', multiple: true },
      listen: { type: 'string', default: '0.0.0.0:9147' },
      shard: { type: 'string' },
      location: { type: 'string' },
      release: { type: 'string' },
      'api-token-file': { type: 'string' },
      concurrency: { type: 'string' },
      'probe-concurrency': { type: 'string' },
      grace: { type: 'string', default: '10s' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const [host, port] = parseListen(values.listen);
  const graceMs = parseDuration(values.grace);
  if (graceMs === undefined) throw new UsageError(`--grace must be a duration like 10s, got "${values.grace}"`);
  const log = createLogger(parseLogLevel(values['log-level'], 'info'));
  const token = readApiToken(values['api-token-file']);
  const daemon = createDaemon({
    checkPaths: values.checks ?? DEFAULT_CHECKS,
    log,
    release: values.release,
    location: values.location,
    shard: parseShardOption(values.shard),
    concurrency: parsePositiveInt(values.concurrency, '--concurrency', 64),
    probeConcurrency: parsePositiveInt(values['probe-concurrency'], '--probe-concurrency', DEFAULT_PROBE_CONCURRENCY),
  });

  let count: number;
  try {
    count = await daemon.load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    log.fatal({ problems: err.problems.length }, 'invalid check files: not starting');
    return 2;
  }

  const api = buildApi({ daemon, log, token, version: packageVersion() });
  await api.listen({ host, port });
  daemon.start();
  log.info({ address: `${host}:${port}`, checks: count, auth: token !== undefined, location: values.location, shard: values.shard }, 'driftwatch serving');

  const onHup = () => {
    void daemon.reload();
  };
  process.on('SIGHUP', onHup);
  // Runs never reject (the runner turns failures into results); if something else does, say so
  // loudly and keep the other checks running rather than take the whole daemon down.
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled rejection (a bug: please report it)');
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
  });
  process.off('SIGHUP', onHup);
  log.info({ signal, grace: formatDuration(graceMs) }, 'shutting down: draining running checks');
  await daemon.stop(graceMs);
  await api.close();
  log.info('stopped');
  log.flush();
  return 0;
}

function parseListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  const port = Number(listen.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen must be HOST:PORT, got "${listen}"`);
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return [host === '' ? '0.0.0.0' : host, port];
}
