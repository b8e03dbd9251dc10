import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Blackbox } from './blackbox.js';
import type { Build } from './build.js';
import { startChild, waitForHttp, type Child } from './child.js';
import { dnsCheck, httpCheck, writeChecks } from './checks-file.js';
import { BENCH_ZONE, type Knot } from './knot.js';
import { runLoad, type LoadResult } from './load.js';
import type { Nginx } from './nginx.js';
import { freePort } from './ports.js';
import { loadNow, MB, sampleProcess } from './proc.js';
import { fixed, median, ratio, round } from './stats.js';
import { markdownTable } from './table.js';

export type Contender = 'driftwatch' | 'blackbox' | 'node-raw';
export type Kind = 'http' | 'dns';

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
  log: (line: string) => void;
}

/** One contender, one kind, one round. */
export interface Segment {
  round: number;
  contender: Contender;
  kind: Kind;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  ok: number;
  bad: number;
  errors: number;
  cpuSecondsPer1000: number;
  load: number;
}

export interface ProbeSummary {
  contender: Contender;
  kind: Kind;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuSecondsPer1000: number;
  okShare: number;
  peakRssMb: number;
  idleRssMb: number;
  load: number;
}

export interface ProbeResults {
  segments: Segment[];
  summary: ProbeSummary[];
  ratios: Record<Kind, { rps: number; p50: number; p99: number; cpuPer1000: number; peakRss: number } | undefined>;
  table: string;
}

const MARKER = 'probe_success 1';

interface Target {
  contender: Contender;
  /** The process whose CPU and memory are charged to the contender. */
  pid: () => number;
  url?: Record<Kind, string>;
  idleRss: number;
}

/**
 * On-demand probes: driftwatch /probe (the real `serve` command in its own process) against
 * blackbox_exporter /probe, same targets, same load generator, interleaved A, B, A, B (the order
 * flips every round) so drift on a shared machine hits both alike. node-raw is the floor: the same
 * request with no framework, run as its own process.
 */
export async function runProbeScenario(options: ProbeOptions): Promise<ProbeResults> {
  const { log } = options;
  const targets: Target[] = [];
  let driftwatch: Child | undefined;
  if (options.contenders.includes('driftwatch')) {
    const serve = await startServe(options);
    const child = serve.child;
    driftwatch = child;
    const probeUrl = (check: string) => `http://127.0.0.1:${serve.port}/probe?check=${check}&format=prometheus`;
    targets.push({ contender: 'driftwatch', pid: () => child.pid, url: { http: probeUrl('bench-http'), dns: probeUrl('bench-dns') }, idleRss: sampleProcess(child.pid).rssBytes });
  }
  if (options.contenders.includes('blackbox') && options.blackbox) {
    const bb = options.blackbox;
    targets.push({
      contender: 'blackbox',
      pid: () => bb.child.pid,
      url: { http: bb.probeUrl('http_2xx', options.nginx.url()), dns: bb.probeUrl('dns', options.knot.address) },
      idleRss: sampleProcess(bb.child.pid).rssBytes,
    });
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
      return { round, contender: target.contender, kind, rps: raw.rps, p50Ms: raw.p50Ms, p99Ms: raw.p99Ms, requests: raw.requests, ok: raw.ok, bad: raw.failed, errors: 0, cpuSecondsPer1000: (raw.cpuSeconds / raw.requests) * 1000, load };
    }
    const before = sampleProcess(target.pid()).cpuSeconds;
    const url = target.url?.[kind] ?? '';
    const result: LoadResult = await runLoad({ url, connections: options.connections, seconds, maxRequests: options.maxRequests, marker: MARKER, client: options.client, dir: options.dir });
    const cpu = sampleProcess(target.pid()).cpuSeconds - before;
    return { round, contender: target.contender, kind, rps: result.rps, p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests, ok: result.ok, bad: result.bad, errors: result.errors, cpuSecondsPer1000: (cpu / Math.max(1, result.requests)) * 1000, load };
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
        log(`probe: round ${round + 1}/${options.rounds} ${kind.padEnd(4)} ${target.contender.padEnd(10)} ${fixed(segment.rps, 0).padStart(6)} req/s  p50 ${fixed(segment.p50Ms, 2)} ms  p99 ${fixed(segment.p99Ms, 2)} ms  cpu ${fixed(segment.cpuSecondsPer1000, 3)} s/1k  ok ${segment.ok}/${segment.requests}  load ${segment.load}`);
      }
    }
  }

  const summary: ProbeSummary[] = [];
  for (const kind of ['http', 'dns'] as const) {
    for (const target of targets) {
      const mine = segments.filter((s) => s.kind === kind && s.contender === target.contender);
      const requests = mine.reduce((n, s) => n + s.requests, 0);
      const peak = target.contender === 'node-raw' ? peakRaw[kind] : sampleProcess(target.pid()).peakRssBytes;
      summary.push({
        contender: target.contender,
        kind,
        rps: median(mine.map((s) => s.rps)),
        p50Ms: median(mine.map((s) => s.p50Ms)),
        p99Ms: median(mine.map((s) => s.p99Ms)),
        cpuSecondsPer1000: median(mine.map((s) => s.cpuSecondsPer1000)),
        okShare: requests === 0 ? 0 : mine.reduce((n, s) => n + s.ok, 0) / requests,
        peakRssMb: peak / MB,
        idleRssMb: target.idleRss / MB,
        load: median(mine.map((s) => s.load)),
      });
    }
  }
  const ratios = { http: ratiosFor(summary, 'http'), dns: ratiosFor(summary, 'dns') };
  await driftwatch?.stop();
  return { segments, summary: summary.map(rounded), ratios, table: probeTable(summary, ratios, options) };
}

function ratiosFor(summary: ProbeSummary[], kind: Kind): ProbeResults['ratios'][Kind] {
  const dw = summary.find((s) => s.kind === kind && s.contender === 'driftwatch');
  const bb = summary.find((s) => s.kind === kind && s.contender === 'blackbox');
  if (!dw || !bb) return undefined;
  return {
    rps: round(ratio(dw.rps, bb.rps)),
    p50: round(ratio(dw.p50Ms, bb.p50Ms)),
    p99: round(ratio(dw.p99Ms, bb.p99Ms)),
    cpuPer1000: round(ratio(dw.cpuSecondsPer1000, bb.cpuSecondsPer1000)),
    peakRss: round(ratio(dw.peakRssMb, bb.peakRssMb)),
  };
}

function rounded(s: ProbeSummary): ProbeSummary {
  return { ...s, rps: round(s.rps, 0), p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms), cpuSecondsPer1000: round(s.cpuSecondsPer1000, 4), okShare: round(s.okShare, 4), peakRssMb: round(s.peakRssMb, 1), idleRssMb: round(s.idleRssMb, 1) };
}

function probeTable(summary: ProbeSummary[], ratios: ProbeResults['ratios'], options: ProbeOptions): string {
  const rows: string[][] = [];
  for (const kind of ['http', 'dns'] as const) {
    for (const s of summary.filter((x) => x.kind === kind)) {
      rows.push([`${kind} ${s.contender}`, fixed(s.rps, 0), fixed(s.p50Ms, 2), fixed(s.p99Ms, 2), fixed(s.cpuSecondsPer1000, 3), fixed(s.peakRssMb, 1), `${fixed(s.okShare * 100, 1)}%`, fixed(s.load, 1)]);
    }
    const r = ratios[kind];
    if (r) rows.push([`${kind} driftwatch/blackbox`, `${fixed(r.rps, 2)}x`, `${fixed(r.p50, 2)}x`, `${fixed(r.p99, 2)}x`, `${fixed(r.cpuPer1000, 2)}x`, `${fixed(r.peakRss, 2)}x`, '', '']);
  }
  const title = `On-demand probes: ${options.connections} keep-alive callers (${options.client}), ${options.rounds} rounds x ${options.seconds} s, interleaved; medians over rounds`;
  return `${title}\n\n${markdownTable(['probe', 'req/s', 'p50 ms', 'p99 ms', 'CPU s/1k probes', 'peak RSS MB', 'ok', 'load'], rows)}`;
}

/** The real `driftwatch serve` (compiled from the working tree) with two checks: the same HTTP fetch and DNS question as blackbox's modules. */
async function startServe(options: ProbeOptions): Promise<{ child: Child; port: number }> {
  const file = join(options.dir, 'probe-checks.yaml');
  // A long interval: the scheduler runs each once after start and then stays out of the way.
  await writeChecks(file, [
    httpCheck('bench-http', options.nginx.url(), { interval: '1h', timeout: '5s' }),
    dnsCheck('bench-dns', options.knot.address, BENCH_ZONE, { interval: '1h', timeout: '5s' }),
  ]);
  const port = await freePort();
  const args = [options.build.entry('bench/lib/serve-cli.ts'), 'serve', '--checks', file, '--listen', `127.0.0.1:${port}`];
  if (options.probeConcurrency !== undefined) args.push('--probe-concurrency', String(options.probeConcurrency));
  const child = startChild({ name: 'driftwatch serve', command: process.execPath, args, logFile: join(options.dir, 'driftwatch-serve.log') });
  await waitForHttp(child, `http://127.0.0.1:${port}/healthz`);
  return { child, port };
}

async function assertProbeSucceeds(contender: Contender, url: string): Promise<void> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200 || !body.includes(MARKER)) throw new Error(`${contender}: a probe of ${url} did not succeed (${response.status}):\n${body.slice(0, 2000)}`);
}

interface RawResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

async function runRaw(options: ProbeOptions, kind: Kind, seconds: number): Promise<RawResult> {
  const target = kind === 'http' ? options.nginx.url() : options.knot.address;
  const args = [options.build.entry('bench/lib/raw-client.ts'), '--mode', kind, '--target', target, '--name', BENCH_ZONE, '--connections', String(options.connections), '--seconds', String(seconds), '--max', String(options.maxRequests)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout) as RawResult;
}
