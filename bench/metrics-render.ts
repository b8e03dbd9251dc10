/**
 * How long /metrics takes to render for 10,000 checks (DESIGN section 3 asks for under 100 ms),
 * and what a scrape costs on the wire, plain and gzip, at each count given.
 * Not a test: timing goals are benchmarks.
 * Run: npx tsx bench/metrics-render.ts [checks[,checks...]] [rounds] [scrape rounds]
 *      npx tsx bench/metrics-render.ts 10000,30000,100000 21 5
 *
 * A third of the checks are tcp-like (core series only), a third dns-like (two resolvers), a third
 * http-like (status and five phases); one in ten last failed. Each render is followed by
 * Buffer.byteLength, which flattens V8's string rope as writing the response would, so the
 * figure is the real event-loop block, not just the concatenation.
 *
 * Last, DESIGN section 3's reference workload in prom-client (a gauge plus a 10-bucket histogram
 * per check; ~210 ms on an idle machine) is timed the same way, so a figure taken on a busy
 * machine can be read as a ratio.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Sample } from '../src/results/run.js';
import { checkSchema, type CheckSpec } from '../src/checks/registry.js';
import { createDaemonMetrics, type DaemonMetrics } from '../src/metrics/daemon-metrics.js';
import { gzipPieces, GZIP_LEVEL, renderMetrics, streamMetrics } from '../src/metrics/exposition.js';
import { createSeriesStore, type SeriesStore } from '../src/metrics/series-store.js';
import type { Run } from '../src/results/run.js';

const COUNTS = (process.argv[2] ?? '10000').split(',').map(Number);
const ROUNDS = Number(process.argv[3] ?? 21);
const SCRAPE_ROUNDS = Number(process.argv[4] ?? 5);

/**
 * A repeatable stand-in for a measured value between scale and 2 x scale: real durations carry a
 * dozen significant digits and differ per check, and that is what gzip gets to compress.
 */
function measured(i: number, k: number, scale: number): number {
  let t = (Math.imul(i, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return scale * (1 + ((t ^ (t >>> 14)) >>> 0) / 4294967296);
}

function samplesFor(i: number): Sample[] {
  switch (i % 3) {
    case 1:
      return [
        { name: 'driftwatch_dns_answer_match', labels: { resolver: 'system' }, value: 1 },
        { name: 'driftwatch_dns_answer_match', labels: { resolver: '10.0.0.2:53' }, value: 1 },
        { name: 'driftwatch_dns_drift', value: 0 },
        { name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: '203.0.113.10' }, value: 1 },
        { name: 'driftwatch_dns_answer_info', labels: { resolver: '10.0.0.2:53', answer: '203.0.113.10' }, value: 1 },
      ];
    case 2:
      return [
        { name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 200 },
        ...['dns', 'connect', 'tls', 'processing', 'transfer'].map((phase, k): Sample => ({ name: 'driftwatch_http_phase_duration_seconds', labels: { via: 'dns', phase }, value: measured(i, k, 0.002) })),
      ];
    default:
      return [];
  }
}

function runOf(spec: CheckSpec, i: number): Run {
  const ok = i % 10 !== 0;
  return {
    result: { name: spec.name, type: spec.type, ok, ...(!ok && { reason: 'timeout' as const }), message: ok ? 'ok' : 'timeout after 10s', startedAt: new Date(Date.now() - measured(i, 9, 30_000)).toISOString(), durationMs: measured(i, 8, 12), observations: {} },
    samples: samplesFor(i),
    probeSamples: () => [],
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The store of `count` checks, every check run once, and a daemon-wide registry beside it. */
function buildStore(count: number) {
  const specs = Array.from({ length: count }, (_, i) =>
    checkSchema.parse({ name: `check-${String(i).padStart(5, '0')}`, type: 'tcp', host: 'svc.example', port: 443, labels: { service: `service-${i % 50}`, team: 'platform' } }),
  );
  /** As the store gets them from the loader: the spec and its dependencies (none here). */
  const checks = specs.map((spec) => ({ spec, dependencies: [] }));
  const store = createSeriesStore({ location: 'eu-west' });
  const daemon = createDaemonMetrics(new Registry(), { location: 'eu-west' });
  for (const check of checks) store.declare(check);
  const t0 = performance.now();
  checks.forEach((check, i) => {
    store.record(check, runOf(check.spec, i));
  });
  const recordUs = ((performance.now() - t0) * 1000) / count;
  /** A few runs between scrapes, as in the daemon, so nothing is served from a stale cache. */
  const runSome = (round: number) => {
    for (let i = round; i < count; i += 97) {
      const check = checks[i];
      if (check) store.record(check, runOf(check.spec, i));
    }
  };
  return { store, daemon, recordUs, runSome };
}

/** The render alone, in one go: the store's text, then with prom-client's daemon metrics. */
async function timeRender(count: number, built: ReturnType<typeof buildStore>): Promise<void> {
  const { store, daemon, runSome } = built;
  const storeMs: number[] = [];
  const storeCpuMs: number[] = [];
  const fullMs: number[] = [];
  let text = '';
  for (let round = 0; round < ROUNDS; round += 1) {
    runSome(round);
    let t0 = performance.now();
    const cpu = process.cpuUsage();
    text = store.render();
    Buffer.byteLength(text);
    storeMs.push(performance.now() - t0);
    const spent = process.cpuUsage(cpu);
    storeCpuMs.push((spent.user + spent.system) / 1000);
    t0 = performance.now();
    text = await renderMetrics(daemon, store);
    Buffer.byteLength(text);
    fullMs.push(performance.now() - t0);
  }
  const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  console.log(`checks:                 ${count} (node ${process.version}, load ${loadavg()[0]?.toFixed(1) ?? '?'})`);
  console.log(`series lines:           ${lines}`);
  console.log(`size:                   ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`);
  console.log(`record() per run:       ${built.recordUs.toFixed(1)} µs`);
  console.log(`store.render() median:  ${median(storeMs).toFixed(1)} ms (min ${Math.min(...storeMs).toFixed(1)}, max ${Math.max(...storeMs).toFixed(1)}, ${ROUNDS} rounds)`);
  console.log(`store.render() CPU:     ${median(storeCpuMs).toFixed(1)} ms median, ${Math.min(...storeCpuMs).toFixed(1)} min (process CPU time; wall time also counts waiting for a busy CPU)`);
  console.log(`renderMetrics() median: ${median(fullMs).toFixed(1)} ms (min ${Math.min(...fullMs).toFixed(1)}, max ${Math.max(...fullMs).toFixed(1)}, with prom-client daemon metrics)`);
}

interface Scrape {
  wallMs: number;
  /** Process CPU, all threads: zlib compresses on libuv's pool, not the event loop. */
  cpuMs: number;
  bytes: number;
  /** The longest the event loop was held meanwhile (monitorEventLoopDelay, 1 ms resolution). */
  loopMaxMs: number;
}

/**
 * One GET /metrics body as the route makes it, read to the end in-process: streamMetrics's
 * pieces with a turn of the event loop between them, as Buffers (plain) or through gzipPieces.
 */
async function scrape(daemon: DaemonMetrics, store: SeriesStore, level: number | undefined): Promise<Scrape> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const pieces = streamMetrics(daemon, store);
  const body = level === undefined ? Readable.from(pieces, { objectMode: false }) : gzipPieces(pieces, level);
  let bytes = 0;
  for await (const chunk of body) {
    const value: unknown = chunk;
    bytes += Buffer.isBuffer(value) ? value.length : 0;
  }
  const wallMs = performance.now() - t0;
  const spent = process.cpuUsage(cpu);
  delay.disable();
  return { wallMs, cpuMs: (spent.user + spent.system) / 1000, bytes, loopMaxMs: delay.max / 1e6 };
}

const KINDS = [
  { label: 'plain', level: undefined },
  { label: `gzip ${GZIP_LEVEL}`, level: GZIP_LEVEL },
  { label: 'gzip 6', level: 6 },
] as const;

/** Plain, gzip at the level the route uses, and zlib's default, interleaved A B C then C B A. */
async function timeScrapes(built: ReturnType<typeof buildStore>): Promise<Map<string, Scrape[]>> {
  const results = new Map<string, Scrape[]>(KINDS.map((kind) => [kind.label, []]));
  for (let round = 0; round < SCRAPE_ROUNDS; round += 1) {
    built.runSome(round);
    for (const kind of round % 2 === 0 ? KINDS : [...KINDS].reverse()) results.get(kind.label)?.push(await scrape(built.daemon, built.store, kind.level));
  }
  return results;
}

const rows: string[] = [];
const fmt = (values: readonly number[], digits = 0) => median(values).toFixed(digits);
for (const count of COUNTS) {
  const built = buildStore(count);
  await timeRender(count, built);
  const scrapes = await timeScrapes(built);
  const plainBytes = median((scrapes.get('plain') ?? []).map((s) => s.bytes));
  const cells = KINDS.map((kind) => {
    const runs = scrapes.get(kind.label) ?? [];
    const bytes = median(runs.map((s) => s.bytes));
    const size = kind.level === undefined ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e6).toFixed(2)} MB (${(plainBytes / bytes).toFixed(1)}x)`;
    return `${size} | ${fmt(runs.map((s) => s.wallMs))} ms, CPU ${fmt(runs.map((s) => s.cpuMs))} ms, loop max ${fmt(runs.map((s) => s.loopMaxMs), 1)} ms`;
  });
  rows.push(`| ${count.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
  console.log('');
}

console.log(`GET /metrics body, streamed in-process, medians of ${SCRAPE_ROUNDS} scrapes per kind (interleaved; load ${loadavg()[0]?.toFixed(1) ?? '?'}):`);
console.log('');
console.log(`| checks | ${KINDS.map((kind) => `${kind.label}: bytes | ${kind.label}: scrape`).join(' | ')} |`);
console.log(`|---:|${KINDS.map(() => '---:|---|').join('')}`);
for (const row of rows) console.log(row);
console.log('');

/** DESIGN section 3's prom-client reference: a gauge plus a 10-bucket histogram per check. */
async function timePromClientReference(checks: number): Promise<number> {
  const registry = new Registry();
  const labelNames = ['check', 'type', 'service'];
  const gauge = new Gauge({ name: 'reference_success', help: 'reference', labelNames, registers: [registry] });
  const histogram = new Histogram({ name: 'reference_duration_seconds', help: 'reference', labelNames, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  for (let i = 0; i < checks; i += 1) {
    const labels = { check: `check-${i}`, type: 'http', service: `service-${i % 50}` };
    gauge.set(labels, 1);
    histogram.observe(labels, 0.1);
  }
  const ms: number[] = [];
  for (let round = 0; round < 7; round += 1) {
    const start = performance.now();
    Buffer.byteLength(await registry.metrics());
    ms.push(performance.now() - start);
  }
  return median(ms);
}

const reference = COUNTS[0] ?? 10_000;
console.log(`prom-client reference:  ${(await timePromClientReference(reference)).toFixed(1)} ms median at ${reference} checks (DESIGN's workload at 10,000: ~210 ms on an idle machine)`);
