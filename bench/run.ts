/**
 * driftwatch benchmarks, side by side with blackbox_exporter, all on loopback. Not a test.
 *
 *   npm run bench                       # everything, about 12 minutes
 *   npm run bench -- --quick            # shorter segments and windows, about 5 minutes
 *   npm run bench -- --only probe --seconds 20
 *   npm run bench -- --only scale --checks 10000 --window 180
 *
 * Scenarios: probe (driftwatch /probe vs blackbox /probe), limit (the same requests from a
 * minimal Node script, and through a minimal fastify server's /probe; runs interleaved with probe
 * when both are chosen), scale (N scheduled checks). See bench/README.md for what each figure
 * means.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRunThreadCount } from '../src/runner/run-threads.js';
import { startBlackbox, type Blackbox } from './lib/blackbox.js';
import { buildForBench, ROOT } from './lib/build.js';
import { onCleanup, runBenchmark } from './lib/cleanup.js';
import type { ScaleKind } from './lib/checks-file.js';
import { BENCH_ZONE, startKnot } from './lib/knot.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { startNginx } from './lib/nginx.js';
import { runProbeScenario, type Contender } from './lib/probe-scenario.js';
import { mergeResults } from './lib/results-file.js';
import { runScaleScenario } from './lib/scale-scenario.js';

const HELP = `Usage: npm run bench -- [options]

  --only LIST          probe,limit,scale (default: all three)
  --quick              shorter: 2 rounds x 4 s probes, 60 s scale windows
  --seconds N          probe: seconds per measured segment (default 10)
  --rounds N           probe: interleaved rounds (default 3)
  --warmup N           probe: unrecorded warm-up seconds per contender and kind (default 3)
  --connections N      probe: concurrent keep-alive callers (default 16)
  --max-requests N     probe: stop a segment after this many answers (default 1000000)
  --client wrk|node    probe: load generator (default wrk when installed)
  --probe-concurrency N  probe: driftwatch serve --probe-concurrency (default: serve's own, 8)
  --checks LIST        scale: check counts (default 1000,10000)
  --window N           scale: measured seconds, a multiple of the interval (default 180)
  --scale-warmup N     scale: seconds before measuring (default 35: first runs come within 30 s)
  --interval N         scale: check interval in seconds (default 60)
  --mix LIST           scale: kinds of checks, in turn: http,dns,tcp (default all three)
  --scrape-every N     scale: GET /metrics every N s during the window, 0 = never (default 15)
  --concurrency N      scale: serve --concurrency (default 64)
  --run-threads N      scale: serve --run-threads (default: serve's own, one per core but one)
  --node-flags FLAGS   probe and scale: extra node flags for the daemon, e.g. "--max-old-space-size=256"
  --out FILE           results file (default bench/results.json)
  --keep               keep the temp dir (configs, logs)
`;

await runBenchmark(async () => {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: 'probe,limit,scale' },
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string', default: '16' },
      'max-requests': { type: 'string', default: '1000000' },
      client: { type: 'string' },
      'probe-concurrency': { type: 'string' },
      checks: { type: 'string', default: '1000,10000' },
      window: { type: 'string' },
      'scale-warmup': { type: 'string', default: '35' },
      interval: { type: 'string', default: '60' },
      mix: { type: 'string' },
      'scrape-every': { type: 'string', default: '15' },
      concurrency: { type: 'string', default: '64' },
      'run-threads': { type: 'string' },
      'node-flags': { type: 'string', default: '' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results.json') },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const num = (text: string | undefined, fallback: number): number => {
    const n = Number(text ?? fallback);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${text ?? ''}`);
    return n;
  };
  const only = new Set(values.only.split(',').map((s) => s.trim()));
  const quick = values.quick;
  const log = (line: string) => {
    process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  };
  const machine = describeMachine();
  log(machineLine(machine));

  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-bench-'));
  if (!values.keep) onCleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
  else log(`keeping ${dir}`);
  const build = await buildForBench(log);
  const nginx = await startNginx(dir);
  const knot = await startKnot(dir);
  log(`peers: nginx ${nginx.url()}, knotd ${knot.address}`);

  const sections: Record<string, unknown> = {};
  const tables: string[] = [];
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();

  const contenders: Contender[] = [];
  if (only.has('probe')) contenders.push('driftwatch', 'blackbox');
  if (only.has('limit')) contenders.push('node-raw', 'node-minimal');
  if (contenders.length > 0) {
    let blackbox: Blackbox | undefined;
    if (contenders.includes('blackbox')) {
      blackbox = await startBlackbox(dir, BENCH_ZONE);
      log(`blackbox_exporter ${blackbox.version} on 127.0.0.1:${blackbox.port}`);
    }
    const client = values.client === 'node' || values.client === 'wrk' ? values.client : hasWrk() ? 'wrk' : 'node';
    const probe = await runProbeScenario({
      dir,
      build,
      nginx,
      knot,
      blackbox,
      contenders,
      seconds: num(values.seconds, quick ? 4 : 10),
      rounds: num(values.rounds, quick ? 2 : 3),
      warmupSeconds: num(values.warmup, quick ? 2 : 3),
      connections: num(values.connections, 16),
      maxRequests: num(values['max-requests'], 1_000_000),
      client,
      probeConcurrency: values['probe-concurrency'] === undefined ? undefined : num(values['probe-concurrency'], 8),
      nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
      log,
    });
    await blackbox?.child.stop();
    tables.push(probe.table);
    sections.probe = { machine, command, blackboxVersion: blackbox?.version, dnsServer: `knotd ${knotVersion()}`, httpServer: 'nginx (1 worker, static file)', client, ...probe, table: undefined, buildTypeErrors: build.typeErrors };
  }

  if (only.has('scale')) {
    const scale = await runScaleScenario({
      dir,
      build,
      nginx,
      knot,
      counts: values.checks.split(',').map((c) => num(c, 1000)),
      intervalSeconds: num(values.interval, 60),
      warmupSeconds: num(values['scale-warmup'], 35),
      windowSeconds: num(values.window, quick ? 60 : 180),
      scrapeEverySeconds: num(values['scrape-every'], 15),
      concurrency: num(values.concurrency, 64),
      runThreads: num(values['run-threads'], defaultRunThreadCount()),
      nodeFlags: values['node-flags'].split(' ').filter((flag) => flag !== ''),
      mix: values.mix === undefined ? undefined : scaleMix(values.mix),
      log,
    });
    tables.push(scale.table);
    sections.scale = { machine, command, results: scale.results, loadAfter: describeMachine().loadavg };
  }

  await mergeResults(values.out, sections);
  process.stdout.write(`\n${machineLine(machine)}\nafter: ${describeMachine().uptime}\n${command}\n\n${tables.join('\n\n')}\n\nresults: ${values.out}\n`);
  return 0;
});

function hasWrk(): boolean {
  return ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
}

function knotVersion(): string {
  try {
    return execFileSync('/usr/sbin/knotd', ['--version'], { encoding: 'utf8' }).trim().split(/\s+/).pop() ?? '';
  } catch {
    return '';
  }
}

function scaleMix(text: string): ScaleKind[] {
  const kinds = text.split(',').map((s) => s.trim());
  const known = (kind: string): kind is ScaleKind => kind === 'http' || kind === 'dns' || kind === 'tcp';
  const mix = kinds.filter(known);
  if (mix.length === 0 || mix.length !== kinds.length) throw new Error(`--mix: http, dns or tcp, comma-separated: ${text}`);
  return mix;
}
