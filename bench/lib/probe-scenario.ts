import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAllocatedBytes } from './alloc-meter.js';
import type { Blackbox } from './blackbox.js';
import type { Build } from './build.js';
import { startChild, waitForHttp, type Child } from './child.js';
import { dnsCheck, httpCheck, writeChecks } from './checks-file.js';
import { BENCH_ZONE, type Knot } from './knot.js';
import { runLoad, type LoadResult } from './load.js';
import type { Nginx } from './nginx.js';
import { freePort } from './ports.js';
import { loadNow, sampleProcess } from './proc.js';
import { fixed } from './stats.js';
import { runRawClient, type RawResult } from './raw-run.js';
import { summarize, type Contender, type Kind, type ProbeResults, type Segment } from './probe-summary.js';


export interface ProbeOptions {
  dir: string;
  build: Build;
  nginx: Nginx;
  knot: Knot;
  blackbox: Blackbox | undefined;
  contenders: Contender[];
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number;
  maxRequests: number;
  client: 'wrk' | 'node';
  /** driftwatch serve --probe-concurrency (its default is 8). */
  probeConcurrency: number | undefined;
  /** Extra node flags for driftwatch serve (say, a V8 flag of its own: it wins over serve's). */
  nodeFlags: string[];
  log: (line: string) => void;
}

export type { Contender, Kind, ProbeResults, ProbeSummary, Segment } from './probe-summary.js';

const MARKER = 'probe_success 1';

/** A node process started with the allocation meter as a preload, listening on `port`. */
interface Metered {
  child: Child;
  port: number;
  allocReport: string;
}

interface Target {
  contender: Contender;
  /** The process whose CPU and memory are charged to the contender. */
  pid: () => number;
  url?: Record<Kind, string>;
  idleRss: number;
  /** Bytes its heap allocated so far (a running total; NaN when it cannot say). */
  allocatedBytes?: () => Promise<number>;
}

/**
 * On-demand probes: driftwatch /probe (the real `serve` command in its own process) against
 * blackbox_exporter /probe, same targets, same load generator, interleaved A, B, A, B (the order
 * flips every round) so drift on a shared machine hits both alike. node-raw is the floor: the same
 * request with no framework, run as its own process; node-minimal is a fastify server making the
 * same request and nothing else (minimal-server.ts), issue 29's anchor for a /probe server.
 */
export async function runProbeScenario(options: ProbeOptions): Promise<ProbeResults> {
  const { log } = options;
  const targets: Target[] = [];
  // The node processes this scenario starts, each metered by the same preload.
  const started: Child[] = [];
  if (options.contenders.includes('driftwatch')) {
    const serve = await startServe(options);
    started.push(serve.child);
    const probeUrl = (check: string) => `http://127.0.0.1:${serve.port}/probe?check=${check}&format=prometheus`;
    targets.push(meteredTarget('driftwatch', serve, { http: probeUrl('bench-http'), dns: probeUrl('bench-dns') }));
  }
  if (options.contenders.includes('blackbox') && options.blackbox) {
    const bb = options.blackbox;
    targets.push({
      contender: 'blackbox',
      pid: () => bb.child.pid,
      url: { http: bb.probeUrl('http_2xx', options.nginx.url()), dns: bb.probeUrl('dns', options.knot.address) },
      idleRss: sampleProcess(bb.child.pid).rssBytes,
      allocatedBytes: () => goAllocatedBytes(`http://127.0.0.1:${bb.port}/metrics`),
    });
  }
  if (options.contenders.includes('node-minimal')) {
    const server = await startMinimal(options);
    started.push(server.child);
    const probeUrl = (kind: Kind) => `http://127.0.0.1:${server.port}/probe?kind=${kind}`;
    targets.push(meteredTarget('node-minimal', server, { http: probeUrl('http'), dns: probeUrl('dns') }));
  }
  if (options.contenders.includes('node-raw')) targets.push({ contender: 'node-raw', pid: () => 0, idleRss: Number.NaN });

  for (const target of targets) {
    for (const kind of ['http', 'dns'] as const) {
      if (target.url) await assertProbeSucceeds(target.contender, target.url[kind]);
    }
  }

  const peakRaw: Record<Kind, number> = { http: 0, dns: 0 };
  const measure = async (target: Target, kind: Kind, round: number, seconds: number): Promise<Segment> => {
    const load = loadNow();
    if (target.contender === 'node-raw') {
      const raw = await runRaw(options, kind, seconds);
      peakRaw[kind] = Math.max(peakRaw[kind], raw.peakRssBytes);
      const perProbe = (total: number) => total / Math.max(1, raw.requests);
      return { round, contender: target.contender, kind, rps: raw.rps, p50Ms: raw.p50Ms, p99Ms: raw.p99Ms, requests: raw.requests, ok: raw.ok, bad: raw.failed, errors: 0, cpuSecondsPer1000: perProbe(raw.cpuSeconds) * 1000, allocKbPerProbe: perProbe(raw.allocatedBytes) / 1024, load };
    }
    const allocBefore = (await target.allocatedBytes?.()) ?? Number.NaN;
    const before = sampleProcess(target.pid()).cpuSeconds;
    const url = target.url?.[kind] ?? '';
    const result: LoadResult = await runLoad({ url, connections: options.connections, seconds, maxRequests: options.maxRequests, marker: MARKER, client: options.client, dir: options.dir });
    const cpu = sampleProcess(target.pid()).cpuSeconds - before;
    const allocated = ((await target.allocatedBytes?.()) ?? Number.NaN) - allocBefore;
    const perProbe = (total: number) => total / Math.max(1, result.requests);
    return { round, contender: target.contender, kind, rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests, ok: result.ok, bad: result.bad, errors: result.errors, cpuSecondsPer1000: perProbe(cpu) * 1000, allocKbPerProbe: perProbe(allocated) / 1024, load };
  };

  if (options.warmupSeconds > 0) {
    log(`probe: warm-up ${options.warmupSeconds} s per contender and kind (not recorded)`);
    for (const target of targets) for (const kind of ['http', 'dns'] as const) await measure(target, kind, -1, options.warmupSeconds);
  }

  const segments: Segment[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const kind of ['http', 'dns'] as const) {
      // A, B, C then C, B, A: each contender goes first as often as last.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const segment = await measure(target, kind, round, options.seconds);
        segments.push(segment);
        log(`probe: round ${round + 1}/${options.rounds} ${kind.padEnd(4)} ${target.contender.padEnd(10)} ${fixed(segment.rps, 0).padStart(6)} req/s  p50 ${fixed(segment.p50Ms, 2)} ms  p99 ${fixed(segment.p99Ms, 2)} ms  cpu ${fixed(segment.cpuSecondsPer1000 * 1000, 0)} us  alloc ${fixed(segment.allocKbPerProbe, 1)} KB  ok ${segment.ok}/${segment.requests}  load ${segment.load}`);
      }
    }
  }

  const peaks = new Map(targets.map((t) => [t.contender, (kind: Kind) => (t.contender === 'node-raw' ? peakRaw[kind] : sampleProcess(t.pid()).peakRssBytes)]));
  const idle = new Map(targets.map((t) => [t.contender, t.idleRss]));
  const results = summarize(segments, targets.map((t) => t.contender), { peakRssBytes: (c, kind) => peaks.get(c)?.(kind) ?? Number.NaN, idleRssBytes: (c) => idle.get(c) ?? Number.NaN }, options);
  for (const child of started) await child.stop();
  return results;
}

/** A contender in a node process of ours: its CPU, memory and allocation meter are the child's. */
function meteredTarget(contender: Contender, server: Metered, url: Record<Kind, string>): Target {
  const { child, allocReport } = server;
  return { contender, pid: () => child.pid, url, idleRss: sampleProcess(child.pid).rssBytes, allocatedBytes: () => readAllocatedBytes(child.pid, allocReport) };
}

/** The real `driftwatch serve` (compiled from the working tree) with two checks: the same HTTP fetch and DNS question as blackbox's modules. */
async function startServe(options: ProbeOptions): Promise<Metered> {
  const file = join(options.dir, 'probe-checks.yaml');
  // A long interval: the scheduler runs each once after start and then stays out of the way.
  await writeChecks(file, [
    httpCheck('bench-http', options.nginx.url(), { interval: '1h', timeout: '5s' }),
    dnsCheck('bench-dns', options.knot.address, BENCH_ZONE, { interval: '1h', timeout: '5s' }),
  ]);
  const port = await freePort();
  const args = [options.build.entry('bench/lib/serve-cli.ts'), 'serve', '--checks', file, '--listen', `127.0.0.1:${port}`];
  if (options.probeConcurrency !== undefined) args.push('--probe-concurrency', String(options.probeConcurrency));
  return startMetered(options, 'driftwatch serve', 'driftwatch', args, port, options.nodeFlags);
}

/** The minimal fastify server (minimal-server.ts), asked for the same nginx page and Knot answer. */
async function startMinimal(options: ProbeOptions): Promise<Metered> {
  const port = await freePort();
  const args = [options.build.entry('bench/lib/minimal-server.ts'), '--port', String(port), '--http', options.nginx.url(), '--dns', options.knot.address, '--name', BENCH_ZONE];
  return startMetered(options, 'minimal server', 'minimal', args, port, []);
}

/** A node process with the allocation meter as a preload (compiled beside raw-client.ts, which imports it), once its /healthz answers. */
async function startMetered(options: ProbeOptions, name: string, file: string, args: string[], port: number, nodeFlags: string[]): Promise<Metered> {
  const meter = pathToFileURL(join(options.build.out, 'bench/lib/alloc-meter.js')).href;
  const allocReport = join(options.dir, `${file}-alloc.json`);
  const env = { ...process.env, DRIFTWATCH_ALLOC_REPORT: allocReport };
  const child = startChild({ name, command: process.execPath, args: [...nodeFlags, '--import', meter, ...args], env, logFile: join(options.dir, `${file}-serve.log`) });
  await waitForHttp(child, `http://127.0.0.1:${port}/healthz`);
  return { child, port, allocReport };
}

async function assertProbeSucceeds(contender: Contender, url: string): Promise<void> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200 || !body.includes(MARKER)) throw new Error(`${contender}: a probe of ${url} did not succeed (${response.status}):\n${body.slice(0, 2000)}`);
}

async function runRaw(options: ProbeOptions, kind: Kind, seconds: number): Promise<RawResult> {
  const target = kind === 'http' ? options.nginx.url() : options.knot.address;
  return runRawClient(options.build, ['--mode', kind, '--target', target, '--name', BENCH_ZONE, '--connections', String(options.connections), '--seconds', String(seconds), '--max', String(options.maxRequests)], seconds);
}

/** blackbox_exporter's own running total of heap bytes allocated (Go's runtime counts every allocation). */
async function goAllocatedBytes(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const match = /^go_memstats_alloc_bytes_total (\S+)$/m.exec(text);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]);
}
