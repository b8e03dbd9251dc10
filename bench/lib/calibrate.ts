import { Gauge, Histogram, Registry } from 'prom-client';
import { median } from './stats.js';

/** DESIGN section 3's reference: prom-client renders this in about 210 ms on an idle machine. */
export const REFERENCE_IDLE_MS = 210;

/**
 * How slow one core is right now, against an idle machine: DESIGN section 3's prom-client
 * workload (a gauge plus a 10-bucket histogram for 10,000 checks), timed here. On a shared
 * machine a wall-clock figure divided by this factor is roughly what an idle one would show.
 */
export async function calibrate(rounds = 3): Promise<{ referenceMs: number; slowdown: number }> {
  const registry = new Registry();
  const labelNames = ['check', 'type', 'service'];
  const gauge = new Gauge({ name: 'reference_success', help: 'reference', labelNames, registers: [registry] });
  const histogram = new Histogram({ name: 'reference_duration_seconds', help: 'reference', labelNames, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] });
  for (let i = 0; i < 10_000; i++) {
    const labels = { check: `check-${i}`, type: 'http', service: `service-${i % 50}` };
    gauge.set(labels, 1);
    histogram.observe(labels, 0.1);
  }
  const ms: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    Buffer.byteLength(await registry.metrics());
    ms.push(performance.now() - start);
  }
  const referenceMs = median(ms);
  return { referenceMs: Math.round(referenceMs), slowdown: Math.round((referenceMs / REFERENCE_IDLE_MS) * 10) / 10 };
}
