import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { ConfigError } from '../config/problem.js';
import { createDaemon, DEFAULT_PROBE_CONCURRENCY } from '../daemon/daemon.js';
import { createLogger } from '../results/log.js';
import { defaultRunThreadCount } from '../runner/run-threads.js';
import {
  CommandError, DEFAULT_CHECKS, packageVersion, parseCommandLine, parseLogLevel, parsePositiveInt, parseShardOption, readApiToken, UsageError,
} from './options.js';
import { guardPeerCrashes } from './crash-guard.js';
import { tuneHeapForService } from './heap-tuning.js';
import { describeSystemError } from './system-error.js';

/** Loopback unless told otherwise: the API runs probes on request, so the network reaches it only by choice. */
export const DEFAULT_LISTEN = '127.0.0.1:9147';

export const SERVE_HELP = `Usage: driftwatch serve [options]

Runs the checks on their schedules, exports /metrics, serves the API and status page.

Options:
  --checks PATH...      check files or folders of *.yaml: several after one --checks, or
                        --checks repeated (default: checks/)
  --listen HOST:PORT    address to listen on (default 127.0.0.1:9147, this machine only;
                        0.0.0.0:9147 or :9147 for every interface)
  --shard I/N           keep only the checks that hash to shard I of N (or ordinal/N: I from the
                        StatefulSet pod name in $HOSTNAME)
  --location NAME       label every series with location="NAME" (vantage point)
  --release TAG         the release under verification ({release} in expectations, tag: release)
  --api-token-file F    require this bearer token on /probe and POST routes
  --prometheus-url URL  a Prometheus that scrapes this daemon: the status page and badges read
                        uptime over 1 h / 24 h / 7 d from it (2 s timeout, cached 60 s)
  --public-badges       serve /api/v1/checks/NAME/badge.svg without the token
                        (or DRIFTWATCH_API_TOKEN)
  --concurrency N       scheduled runs at once (default 64)
  --probe-concurrency N on-demand runs at once (default 64; a quarter of them for one check
                        and target, the rest wait within their own deadline)
  --run-threads N       worker threads that run checks (default: one per core but one, at
                        most 8; 0 runs every check on the main thread)
  --grace DURATION      on SIGTERM, how long running checks may finish (default 10s)
  --log-level LEVEL     fatal, error, warn, info (default), debug, trace, silent
  -h, --help            this help

Signals: SIGHUP reloads the check files (an invalid file keeps the old checks); SIGTERM and
SIGINT stop scheduling, let running checks finish within --grace, and close the server.
Exit 2 when it cannot start: bad usage, invalid check files, an address it cannot listen on.
`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      checks: { type: 'string', multiple: true },
      listen: { type: 'string', default: DEFAULT_LISTEN },
      shard: { type: 'string' },
      location: { type: 'string' },
      release: { type: 'string' },
      'api-token-file': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'public-badges': { type: 'boolean' },
      concurrency: { type: 'string' },
      'probe-concurrency': { type: 'string' },
      'run-threads': { type: 'string' },
      grace: { type: 'string', default: '10s' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const [host, port] = parseListen(values.listen);
  if (values.release === '') throw new UsageError('--release must not be empty (an unset variable in the deployment?)');
  const graceMs = parseDuration(values.grace);
  if (graceMs === undefined) throw new UsageError(`--grace must be a duration like 10s, got "${values.grace}"`);
  // Read before the daemon starts its run threads: a usage error must exit at once.
  const prometheusUrl = parsePrometheusUrl(values['prometheus-url']);
  const log = createLogger(parseLogLevel(values['log-level'], 'info'));
  const heap = tuneHeapForService();
  const token = readApiToken(values['api-token-file']);
  const daemon = createDaemon({
    checkPaths: values.checks ?? DEFAULT_CHECKS,
    log,
    release: values.release,
    location: values.location,
    shard: parseShardOption(values.shard),
    concurrency: parsePositiveInt(values.concurrency, '--concurrency', 64),
    probeConcurrency: parsePositiveInt(values['probe-concurrency'], '--probe-concurrency', DEFAULT_PROBE_CONCURRENCY),
    runThreads: parseRunThreads(values['run-threads']),
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
  heap.watch();

  const api = buildApi({ daemon, log, token, version: packageVersion(), prometheusUrl, publicBadges: values['public-badges'] });
  let address: string;
  try {
    address = await listenQuietly(api, host, port);
  } catch (err) {
    // The scheduler has not started, so no check has run or is planned; the run threads have.
    await api.close();
    await daemon.runThreads.close();
    log.flush();
    throw new CommandError(`cannot listen on ${values.listen}: ${describeSystemError(err)}`);
  }
  daemon.start();
  log.info({ address, checks: count, auth: token !== undefined, location: values.location, shard: values.shard }, 'driftwatch serving');

  const onHup = () => {
    void daemon.reload();
  };
  process.on('SIGHUP', onHup);
  // Runs never reject (the runner turns failures into results); if something else does, say so
  // loudly and keep the other checks running rather than take the whole daemon down.
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled rejection (a bug: please report it)');
  });
  guardPeerCrashes(log);
  // Listeners stay until the end: a second signal while draining must not kill the process, and
  // one comes at once under `npm start` (the terminal sends Ctrl-C to npm and the daemon, and npm
  // forwards it). Without a listener Node would take the default action and exit mid-drain.
  let onStop: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    onStop = resolve;
  });
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  const signal = await stopRequested;
  process.off('SIGHUP', onHup);
  log.info({ signal, grace: formatDuration(graceMs) }, 'shutting down: draining running checks');
  await daemon.stop(graceMs);
  await api.close();
  log.info('stopped');
  log.flush();
  process.off('SIGTERM', onStop);
  process.off('SIGINT', onStop);
  return 0;
}

function parsePrometheusUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
    throw new UsageError(`--prometheus-url must be an http(s) URL without credentials, like http://prometheus:9090, got "${value}"`);
  }
  return url.href;
}

function parseListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  const port = Number(listen.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen must be HOST:PORT, got "${listen}"`);
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return [host === '' ? '0.0.0.0' : host, port];
}

/**
 * Listens and returns the address really bound (`0.0.0.0:9147`, `[::]:9147`, the port the
 * system chose for port 0). fastify's own "Server listening at" lines are left out: for 0.0.0.0
 * they name 127.0.0.1 and each interface's address, never what was bound; the caller logs this one.
 */
async function listenQuietly(api: FastifyInstance, host: string, port: number): Promise<string> {
  const level = api.log.level;
  api.log.level = 'warn';
  try {
    await api.listen({ host, port });
  } finally {
    api.log.level = level;
  }
  const bound = api.server.address();
  if (bound === null || typeof bound === 'string') return `${host}:${port}`;
  return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
}

/** One thread per core but the one the daemon's own thread uses, at most 8; 0 on one core. */
function parseRunThreads(value: string | undefined): number {
  if (value === '0') return 0;
  return parsePositiveInt(value, '--run-threads', defaultRunThreadCount());
}
