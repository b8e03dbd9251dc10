/**
 * How long /metrics takes to render for 10,000 checks (DESIGN section 3 asks for under 100 ms).
 * Not a test: timing goals are benchmarks. Run: npx tsx bench/metrics-render.ts [checks] [rounds]
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
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Sample } from '../src/results/run.js';
import { checkSchema, type CheckSpec } from '../src/checks/registry.js';
import { createDaemonMetrics } from '../src/metrics/daemon-metrics.js';
import { renderMetrics } from '../src/metrics/exposition.js';
import { createSeriesStore } from '../src/metrics/series-store.js';
import type { Run } from '../src/results/run.js';

const CHECKS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 21);

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
        ...['dns', 'connect', 'tls', 'processing', 'transfer'].map((phase): Sample => ({ name: 'driftwatch_http_phase_duration_seconds', labels: { via: 'dns', phase }, value: 0.0123 })),
      ];
    default:
      return [];
  }
}

function runOf(spec: CheckSpec, i: number): Run {
  const ok = i % 10 !== 0;
  return {
    result: { name: spec.name, type: spec.type, ok, ...(!ok && { reason: 'timeout' as const }), message: ok ? 'ok' : 'timeout after 10s', startedAt: new Date().toISOString(), durationMs: 12.345 + (i % 100), observations: {} },
    samples: samplesFor(i),
    probeSamples: () => [],
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const specs = Array.from({ length: CHECKS }, (_, i) =>
  checkSchema.parse({ name: `check-${String(i).padStart(5, '0')}`, type: 'tcp', host: 'svc.example', port: 443, labels: { service: `service-${i % 50}`, team: 'platform' } }),
);
/** As the store gets them from the loader: the spec and its dependencies (none here). */
const checks = specs.map((spec) => ({ spec, dependencies: [] }));
const store = createSeriesStore({ location: 'eu-west' });
const daemon = createDaemonMetrics(new Registry(), { location: 'eu-west' });
for (const check of checks) store.declare(check);

let t0 = performance.now();
checks.forEach((check, i) => {
  store.record(check, runOf(check.spec, i));
});
const recordUs = ((performance.now() - t0) * 1000) / CHECKS;

const storeMs: number[] = [];
const storeCpuMs: number[] = [];
const fullMs: number[] = [];
let text = '';
for (let round = 0; round < ROUNDS; round += 1) {
  // A few runs between scrapes, as in the daemon, so nothing is served from a stale cache.
  for (let i = round; i < CHECKS; i += 97) store.record(checks[i] ?? checks[0]!, runOf(specs[i] ?? specs[0]!, i));
  t0 = performance.now();
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
console.log(`checks:                 ${CHECKS} (node ${process.version})`);
console.log(`series lines:           ${lines}`);
console.log(`size:                   ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`);
console.log(`record() per run:       ${recordUs.toFixed(1)} µs`);
console.log(`store.render() median:  ${median(storeMs).toFixed(1)} ms (min ${Math.min(...storeMs).toFixed(1)}, max ${Math.max(...storeMs).toFixed(1)}, ${ROUNDS} rounds)`);
console.log(`store.render() CPU:     ${median(storeCpuMs).toFixed(1)} ms median, ${Math.min(...storeCpuMs).toFixed(1)} min (process CPU time; wall time also counts waiting for a busy CPU)`);
console.log(`renderMetrics() median: ${median(fullMs).toFixed(1)} ms (min ${Math.min(...fullMs).toFixed(1)}, max ${Math.max(...fullMs).toFixed(1)}, with prom-client daemon metrics)`);

/** DESIGN section 3's prom-client reference: a gauge plus a 10-bucket histogram per check. */
async function timePromClientReference(): Promise<number> {
  const registry = new Registry();
  const labelNames = ['check', 'type', 'service'];
  const gauge = new Gauge({ name: 'reference_success', help: 'reference', labelNames, registers: [registry] });
  const histogram = new Histogram({ name: 'reference_duration_seconds', help: 'reference', labelNames, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  for (let i = 0; i < CHECKS; i += 1) {
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

console.log(`prom-client reference:  ${(await timePromClientReference()).toFixed(1)} ms median (DESIGN's workload, ~210 ms on an idle machine)`);
