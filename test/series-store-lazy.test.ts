import { describe, expect, it } from 'vitest';
import type { BaseSpec } from '../src/config/base.js';
import { createSeriesStore, type SeriesCheck } from '../src/metrics/series-store.js';
import { REASONS } from '../src/results/result.js';
import type { Run, Sample } from '../src/results/run.js';
import { createEagerSeriesStore, type EagerSeriesStore } from './support/eager-series-store.js';

// The series store writes a check's lines when a scrape reads them, from the numbers its runs
// left, instead of on every run. Its text must be what the store that rendered on every run
// gave, byte for byte and in the same order, whatever came before: runs that pass, fail and are
// blocked, samples that come and go, removals, reloads that change labels or dependsOn.

/** mulberry32: a small seeded generator, so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta'];
const LABEL_SETS: Record<string, string>[] = [{}, { service: 'a' }, { service: 'b', team: 'say "hi" \\ back\nslash' }, { env: 'prod', tier: 'gold' }];

/** Every kind of sample a check type gives, plus the mistakes the store must tolerate. */
const SAMPLES: Sample[] = [
  { name: 'driftwatch_dns_answer_match', labels: { resolver: 'system' }, value: 1 },
  { name: 'driftwatch_dns_answer_match', labels: { resolver: '1.1.1.1' }, value: 0 },
  { name: 'driftwatch_dns_drift', value: 1 },
  { name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: '203.0.113.10' }, value: 1 },
  { name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: 'v=spf1 "q" \\ \u2028' }, value: 1 },
  { name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 401 },
  { name: 'driftwatch_http_phase_duration_seconds', labels: { via: '203.0.113.10', phase: 'tls' }, value: Number.NaN },
  { name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: 1_800_000_000.5 },
  { name: 'driftwatch_openapi_missing_paths', value: Number.POSITIVE_INFINITY },
  { name: 'driftwatch_k8s_image_match', value: Number.NEGATIVE_INFINITY },
  { name: 'driftwatch_ingress_verdict', labels: {}, value: 1 },
  // A check type's clashes: a core family, and labels the store sets itself or the check has.
  { name: 'driftwatch_check_success', value: 0 },
  { name: 'driftwatch_http_status_code', labels: { via: 'pin', check: 'spoofed', location: 'x', service: 'y', env: 'z' }, value: 200 },
  { name: 'driftwatch_k8s_rollout_replicas', labels: { check: 'only-a-clash' }, value: 3 },
];

function pick<T>(next: () => number, list: readonly T[]): T {
  const item = list[Math.floor(next() * list.length)];
  if (item === undefined) throw new Error('empty list');
  return item;
}

function checkOf(next: () => number, name: string): SeriesCheck {
  const spec: BaseSpec = { name, type: pick(next, ['tcp', 'http', 'dns']), timeout: 10_000, labels: pick(next, LABEL_SETS) };
  return { spec, dependencies: next() < 0.3 ? ['root'] : [] };
}

function runOf(next: () => number, name: string): Run {
  const roll = next();
  const ok = roll < 0.5;
  const blocked = roll > 0.9;
  // Often the same series as the run before with other values, as a healthy check gives them.
  const picked = next() < 0.5 ? SAMPLES.slice(0, 7) : SAMPLES.filter(() => next() < 0.3);
  const samples = blocked ? [] : picked.map((sample) => (next() < 0.5 ? { ...sample, value: Math.floor(next() * 1000) / 8 } : sample));
  return {
    result: {
      name,
      type: 'tcp',
      ok,
      ...(!ok && !blocked && { reason: pick(next, REASONS) }),
      ...(blocked && { blocked: { by: ['root'], roots: ['root'] } }),
      message: ok ? 'ok' : 'failed',
      startedAt: new Date(Date.UTC(2026, 10, 27, 12, 0, 0, Math.floor(next() * 1e6))).toISOString(),
      durationMs: Math.floor(next() * 100_000) / 7,
      observations: {},
    },
    samples,
    probeSamples: () => [],
  };
}

function expectSameText(lazy: EagerSeriesStore, eager: EagerSeriesStore, step: string): void {
  expect(lazy.render(), step).toBe(eager.render());
  for (const size of [1, 2, 3]) expect([...lazy.renderChunks(size)], `${step}, pieces of ${size}`).toEqual([...eager.renderChunks(size)]);
}

/** One random sequence of declares, runs, removals and reloads, applied to both stores. */
function replay(seed: number, location: string | undefined, steps: number): void {
  const next = random(seed);
  const lazy = createSeriesStore({ location });
  const eager = createEagerSeriesStore({ location });
  const current = new Map<string, SeriesCheck>();
  const both = (action: (store: EagerSeriesStore) => void) => {
    action(lazy);
    action(eager);
  };
  for (let i = 0; i < steps; i++) {
    const roll = next();
    const name = pick(next, NAMES);
    let what: string;
    if (roll < 0.55) {
      // A run of the check as loaded now (or of one the store never saw declared).
      const check = current.get(name) ?? checkOf(next, name);
      const run = runOf(next, name);
      both((store) => {
        store.record(check, run);
      });
      what = `record ${name} ${run.result.ok ? 'ok' : (run.result.reason ?? 'blocked')}`;
    } else if (roll < 0.65) {
      const check = checkOf(next, name);
      current.set(name, check);
      both((store) => {
        store.declare(check);
      });
      what = `declare ${name}`;
    } else if (roll < 0.75) {
      current.delete(name);
      both((store) => {
        store.remove(name);
      });
      what = `remove ${name}`;
    } else {
      // A reload as the daemon applies it: removed checks go, new or changed specs are declared.
      // The lazy store stages it in steps of two checks, with runs recorded between the steps,
      // as the event loop turns meanwhile; the old store did it in one go, after those runs.
      const kept = NAMES.filter(() => next() < 0.7);
      const changed = kept.filter((n) => !current.has(n) || next() < 0.4).map((n) => checkOf(next, n));
      const removed = [...current.keys()].filter((n) => !kept.includes(n));
      const steps = lazy.stage(changed, removed, 2);
      let step = steps.next();
      while (step.done !== true) {
        const during = pick(next, NAMES);
        const check = current.get(during) ?? checkOf(next, during);
        const run = runOf(next, during);
        both((store) => {
          store.record(check, run);
        });
        expect(lazy.render(), `seed ${seed}, step ${i}: staging`).toBe(eager.render());
        step = steps.next();
      }
      step.value.commit();
      for (const gone of removed) {
        current.delete(gone);
        eager.remove(gone);
      }
      for (const check of changed) {
        current.set(check.spec.name, check);
        eager.declare(check);
      }
      what = `reload to ${kept.join(',')}`;
    }
    expectSameText(lazy, eager, `seed ${seed}, step ${i}: ${what}`);
  }
}

describe('the lazily rendered series store', () => {
  it('gives the text of the store that rendered every run, over random runs, removals and reloads', () => {
    for (let seed = 1; seed <= 40; seed++) replay(seed, seed % 3 === 0 ? undefined : seed % 3 === 1 ? 'eu-west' : '', 150);
  });

});
