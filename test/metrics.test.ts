import { spawn } from 'node:child_process';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ProbeSample, Sample } from '../src/results/run.js';
import type { LoadedCheck } from '../src/checks/registry.js';
import { createDaemonMetrics } from '../src/metrics/daemon-metrics.js';
import { METRICS_CONTENT_TYPE, renderMetrics, streamMetrics } from '../src/metrics/exposition.js';
import { renderProbe } from '../src/metrics/probe-exposition.js';
import { createSeriesStore } from '../src/metrics/series-store.js';
import { escapeLabelValue, formatValue } from '../src/metrics/text-format.js';
import type { Reason } from '../src/results/result.js';
import type { Run } from '../src/results/run.js';
import { parseChecks } from './support/checks.js';

// ---- fixtures -------------------------------------------------------------------------------

function specs(yaml: string): Map<string, LoadedCheck> {
  return new Map(parseChecks(yaml).map((c) => [c.spec.name, c]));
}

const TRICKY = 'say "hi" \\ back\nslash';

/** Three tcp checks whose static label keys differ, one value needing every escape. */
const V1 = specs(`
checks:
  - { name: alpha, type: tcp, host: 127.0.0.1, port: 9, labels: { service: inter-hub, team: ${JSON.stringify(TRICKY)} } }
  - { name: beta, type: tcp, host: 127.0.0.1, port: 9, labels: { env: prod } }
  - { name: gamma, type: tcp, host: 127.0.0.1, port: 9 }
`);

function spec(name: string, from = V1): LoadedCheck {
  const found = from.get(name);
  if (!found) throw new Error(`no spec ${name}`);
  return found;
}

const STARTED = '2026-11-27T10:00:00.000Z';

function run(name: string, options: { ok?: boolean; reason?: Reason; durationMs?: number; samples?: Sample[]; probe?: ProbeSample[] } = {}): Run {
  const ok = options.ok ?? options.reason === undefined;
  return {
    result: {
      name,
      type: 'tcp',
      ok,
      ...(!ok && { reason: options.reason ?? 'error' }),
      message: ok ? 'ok' : 'failed',
      startedAt: STARTED,
      durationMs: options.durationMs ?? 250,
      observations: {},
    },
    samples: options.samples ?? [],
    probeSamples: () => options.probe ?? [],
  };
}

/** One sample of every type-specific family, with values Prometheus spells specially. */
const EVERY_TYPE: Sample[] = [
  { name: 'driftwatch_dns_answer_match', labels: { resolver: 'system' }, value: 1 },
  { name: 'driftwatch_dns_answer_match', labels: { resolver: '1.1.1.1' }, value: 0 },
  { name: 'driftwatch_dns_drift', value: 1 },
  { name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: '203.0.113.10' }, value: 1 },
  { name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: 'v=spf1 "quoted" \\ txt' }, value: 1 },
  { name: 'driftwatch_http_status_code', labels: { via: 'dns' }, value: 401 },
  { name: 'driftwatch_http_phase_duration_seconds', labels: { via: '203.0.113.10', phase: 'connect' }, value: 0.0123 },
  { name: 'driftwatch_http_phase_duration_seconds', labels: { via: '203.0.113.10', phase: 'tls' }, value: Number.NaN },
  { name: 'driftwatch_tls_cert_expiry_timestamp_seconds', value: 1_800_000_000 },
  { name: 'driftwatch_ingress_verdict', labels: { verdict: 'dns-drift' }, value: 1 },
  { name: 'driftwatch_openapi_missing_paths', value: Number.POSITIVE_INFINITY },
  { name: 'driftwatch_postgres_primary', value: 0 },
  { name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'ready' }, value: 3 },
  { name: 'driftwatch_k8s_image_match', value: Number.NEGATIVE_INFINITY },
];

// ---- promtool and a strict reader of the text format ----------------------------------------

/** prom-client's Node metrics name three gauges *_total; promtool lints them (TESTING.md). */
const KNOWN_LINT = /^nodejs_active_[a-z]+_total non-counter metrics should not have "_total" suffix$/;

function promtool(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, output });
    });
    child.stdin.end(text);
  });
}

async function expectPromtoolAccepts(text: string): Promise<void> {
  const { code, output } = await promtool(text);
  const unexpected = output.split('\n').filter((line) => line !== '' && !KNOWN_LINT.test(line));
  expect({ code: code === 3 && unexpected.length === 0 ? 0 : code, unexpected }).toEqual({ code: 0, unexpected: [] });
}

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;

/**
 * Parses the exposition and enforces what promtool 2.42 lets through: one HELP and TYPE per
 * family, a family's samples contiguous under its header, no duplicate series or label names.
 */
function read(text: string): Series[] {
  const series: Series[] = [];
  const seenFamilies = new Set<string>();
  const seenSeries = new Set<string>();
  let family: { name: string; type: string } | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      expect(seenFamilies.has(type[1]!), `second TYPE for ${type[1]!}`).toBe(false);
      seenFamilies.add(type[1]!);
      family = { name: type[1]!, type: type[2]! };
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    expect(match, `bad line: ${line}`).not.toBeNull();
    const [, name, pairs = ''] = match!;
    const base = family?.type === 'histogram' ? name!.replace(/_(bucket|sum|count)$/, '') : name;
    expect(base, `${name!} outside its family`).toBe(family?.name);
    const labels: Record<string, string> = {};
    let consumed = 0;
    for (const [pair, key, value] of pairs.matchAll(LABEL_PAIR)) {
      consumed += pair.length;
      expect(key! in labels, `label ${key!} twice in ${line}`).toBe(false);
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    expect(consumed, `bad labels: ${line}`).toBe(pairs.length);
    const key = `${name!}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seenSeries.has(key), `duplicate series ${line}`).toBe(false);
    seenSeries.add(key);
    const raw = match![3]!;
    series.push({ name: name!, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return series;
}

function find(all: Series[], name: string, labels: Record<string, string> = {}): Series[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function valueOf(all: Series[], name: string, labels: Record<string, string>): number | undefined {
  const found = find(all, name, labels);
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

// ---- tests ----------------------------------------------------------------------------------

describe('the /metrics exposition', () => {
  it('passes promtool with daemon metrics, every type-specific family, differing static labels and escaped values', async () => {
    const daemon = createDaemonMetrics(new Registry(), { location: 'eu-west' });
    daemon.checks.set(3);
    daemon.configReloadSuccessful.set(1);
    daemon.schedulerLag.observe(0.004);
    daemon.observeRun('tcp', 0.25);
    daemon.observeRun('dns', 0.02);
    const store = createSeriesStore({ location: 'eu-west' });
    for (const s of V1.values()) store.declare(s);
    store.record(spec('alpha'), run('alpha', { samples: EVERY_TYPE }));
    store.record(spec('beta'), run('beta', { reason: 'timeout', samples: EVERY_TYPE.slice(0, 5) }));

    const text = await renderMetrics(daemon, store);
    await expectPromtoolAccepts(text);
    const all = read(text);

    expect(METRICS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(valueOf(all, 'driftwatch_checks', { location: 'eu-west' })).toBe(3);
    expect(valueOf(all, 'driftwatch_check_run_duration_seconds_count', { type: 'tcp', location: 'eu-west' })).toBe(1);
    expect(find(all, 'driftwatch_check_run_duration_seconds_count')[0]?.labels).not.toHaveProperty('check');
    expect(find(all, 'process_cpu_user_seconds_total')).toHaveLength(1);
    // Each check carries its own static label keys and nothing else's.
    expect(find(all, 'driftwatch_check_success', { check: 'alpha' })[0]?.labels).toEqual({ check: 'alpha', type: 'tcp', service: 'inter-hub', team: TRICKY, location: 'eu-west' });
    expect(find(all, 'driftwatch_check_success', { check: 'beta' })[0]?.labels).toEqual({ check: 'beta', type: 'tcp', env: 'prod', location: 'eu-west' });
    expect(find(all, 'driftwatch_check_runs_total', { check: 'gamma' }).map((s) => s.labels)).toEqual([
      { check: 'gamma', type: 'tcp', location: 'eu-west', result: 'success' },
      { check: 'gamma', type: 'tcp', location: 'eu-west', result: 'failure' },
    ]);
    expect(valueOf(all, 'driftwatch_dns_answer_info', { check: 'alpha', answer: 'v=spf1 "quoted" \\ txt' })).toBe(1);
    expect(valueOf(all, 'driftwatch_http_phase_duration_seconds', { check: 'alpha', phase: 'tls' })).toBeNaN();
    expect(valueOf(all, 'driftwatch_openapi_missing_paths', { check: 'alpha' })).toBe(Infinity);
    expect(valueOf(all, 'driftwatch_k8s_image_match', { check: 'alpha' })).toBe(-Infinity);
    expect(valueOf(all, 'driftwatch_check_failures_total', { check: 'beta', reason: 'timeout' })).toBe(1);
    expect(text).toContain('team="say \\"hi\\" \\\\ back\\nslash"');
  });

  it('renders daemon metrics alone, and an empty store as nothing', async () => {
    const daemon = createDaemonMetrics(new Registry(), {});
    const store = createSeriesStore({});
    expect(store.render()).toBe('');
    const text = await renderMetrics(daemon, store);
    await expectPromtoolAccepts(text);
    expect(text).not.toContain('location=');
  });

  it('streams the same text in pieces, each family header once', async () => {
    const daemon = createDaemonMetrics(new Registry(), {});
    const store = createSeriesStore({});
    for (const s of V1.values()) store.declare(s);
    store.record(spec('alpha'), run('alpha', { samples: EVERY_TYPE }));
    store.record(spec('beta'), run('beta', { reason: 'timeout', samples: EVERY_TYPE }));
    expect([...store.renderChunks(1)].join('')).toBe(store.render());
    expect([...store.renderChunks(1)].length).toBeGreaterThan([...store.renderChunks()].length);
    let streamed = '';
    for await (const piece of streamMetrics(daemon, store)) streamed += piece;
    // process_* and nodejs_* values move between two renders: compare the per-check part and the families.
    const text = await renderMetrics(daemon, store);
    expect(streamed.slice(streamed.indexOf('# HELP driftwatch_check_success'))).toBe(store.render());
    expect(streamed.match(/^# TYPE \S+/gm)).toEqual(text.match(/^# TYPE \S+/gm));
  });
});

describe('the series store', () => {
  it('drops every series of a removed check and keeps the others', () => {
    const store = createSeriesStore({});
    for (const s of V1.values()) store.declare(s);
    store.record(spec('alpha'), run('alpha', { reason: 'dns', samples: EVERY_TYPE }));
    store.record(spec('beta'), run('beta', { samples: EVERY_TYPE }));
    store.remove('alpha');
    store.remove('no-such-check');
    const all = read(store.render());
    expect(all.filter((s) => s.labels.check === 'alpha')).toEqual([]);
    expect(find(all, 'driftwatch_dns_answer_info', { check: 'beta' })).toHaveLength(2);
    expect(find(all, 'driftwatch_check_runs_total', { check: 'gamma' })).toHaveLength(2);
    // A family whose last series went leaves no header behind.
    store.remove('beta');
    expect(store.render()).not.toContain('driftwatch_dns_answer_info');
    expect(store.render()).not.toContain('driftwatch_check_failures_total');
  });

  it('replaces a check type\'s samples on every run, so an answer that went away disappears', () => {
    const store = createSeriesStore({});
    const answer = (ip: string): Sample => ({ name: 'driftwatch_dns_answer_info', labels: { resolver: 'system', answer: ip }, value: 1 });
    store.record(spec('gamma'), run('gamma', { samples: [answer('203.0.113.10'), answer('198.51.100.7')] }));
    store.record(spec('gamma'), run('gamma', { samples: [answer('203.0.113.10')] }));
    let all = read(store.render());
    expect(find(all, 'driftwatch_dns_answer_info').map((s) => s.labels.answer)).toEqual(['203.0.113.10']);
    store.record(spec('gamma'), run('gamma', { reason: 'dns' }));
    all = read(store.render());
    expect(find(all, 'driftwatch_dns_answer_info')).toEqual([]);
    expect(store.render()).not.toContain('# TYPE driftwatch_dns_answer_info');
  });

  it('keeps counting across runs and sets the gauges from the last run', () => {
    const store = createSeriesStore({});
    const gamma = spec('gamma');
    store.record(gamma, run('gamma'));
    store.record(gamma, run('gamma', { reason: 'timeout' }));
    store.record(gamma, run('gamma', { reason: 'timeout' }));
    store.record(gamma, run('gamma', { reason: 'connect' }));
    store.record(gamma, run('gamma', { durationMs: 1500 }));
    const all = read(store.render());
    expect(valueOf(all, 'driftwatch_check_runs_total', { result: 'success' })).toBe(2);
    expect(valueOf(all, 'driftwatch_check_runs_total', { result: 'failure' })).toBe(3);
    expect(valueOf(all, 'driftwatch_check_failures_total', { reason: 'timeout' })).toBe(2);
    expect(valueOf(all, 'driftwatch_check_failures_total', { reason: 'connect' })).toBe(1);
    expect(valueOf(all, 'driftwatch_check_success', {})).toBe(1);
    expect(valueOf(all, 'driftwatch_check_duration_seconds', {})).toBe(1.5);
    expect(valueOf(all, 'driftwatch_check_last_run_timestamp_seconds', {})).toBe(Date.parse(STARTED) / 1000 + 1.5);
  });

  it('declare() makes both runs_total series exist at 0, is idempotent and keeps counts', () => {
    const store = createSeriesStore({ location: 'lab' });
    const beta = spec('beta');
    store.declare(beta);
    store.declare(beta);
    let all = read(store.render());
    expect(all.map((s) => [s.name, s.labels.result, s.value])).toEqual([
      ['driftwatch_check_runs_total', 'success', 0],
      ['driftwatch_check_runs_total', 'failure', 0],
    ]);
    expect(all.every((s) => s.labels.location === 'lab')).toBe(true);
    store.record(beta, run('beta', { reason: 'status' }));
    store.declare(beta);
    all = read(store.render());
    expect(valueOf(all, 'driftwatch_check_runs_total', { result: 'failure' })).toBe(1);
    expect(valueOf(all, 'driftwatch_check_success', {})).toBe(0);
  });

  it('survives a reload that adds a static label key to some checks', async () => {
    const store = createSeriesStore({ location: 'eu-west' });
    for (const s of V1.values()) store.declare(s);
    for (const name of V1.keys()) store.record(spec(name), run(name, { samples: EVERY_TYPE.slice(0, 4) }));
    const v2 = specs(`
checks:
  - { name: alpha, type: tcp, host: 127.0.0.1, port: 9, labels: { service: inter-hub, team: ${JSON.stringify(TRICKY)} } }
  - { name: beta, type: tcp, host: 127.0.0.1, port: 9, labels: { env: prod, tier: gold } }
  - { name: delta, type: tcp, host: 127.0.0.1, port: 9, labels: { tier: silver } }
`);
    for (const name of V1.keys()) if (!v2.has(name)) store.remove(name);
    for (const s of v2.values()) store.declare(s);
    store.record(spec('beta', v2), run('beta', { samples: EVERY_TYPE.slice(0, 4) }));

    const text = store.render();
    await expectPromtoolAccepts(text);
    const all = read(text);
    expect(all.filter((s) => s.labels.check === 'gamma')).toEqual([]);
    // beta's series moved to the new label set, with its counts, and none stayed behind on the old one.
    expect(find(all, 'driftwatch_check_runs_total', { check: 'beta', result: 'success' }).map((s) => [s.labels.tier, s.value])).toEqual([['gold', 2]]);
    expect(find(all, 'driftwatch_dns_answer_match', { check: 'beta' }).every((s) => s.labels.tier === 'gold')).toBe(true);
    expect(find(all, 'driftwatch_check_runs_total', { check: 'delta' }).map((s) => s.labels.tier)).toEqual(['silver', 'silver']);
    expect(find(all, 'driftwatch_check_success', { check: 'alpha' })[0]?.labels).not.toHaveProperty('tier');
  });

  it('lets the store\'s own series and labels win over a check type\'s clashing sample', () => {
    const store = createSeriesStore({ location: 'lab' });
    store.record(spec('beta'), run('beta', {
      samples: [
        { name: 'driftwatch_check_success', value: 0 },
        { name: 'driftwatch_http_status_code', labels: { via: 'dns', check: 'spoofed', env: 'dev', location: 'x' }, value: 200 },
      ],
    }));
    const all = read(store.render());
    expect(find(all, 'driftwatch_check_success').map((s) => s.value)).toEqual([1]);
    expect(find(all, 'driftwatch_http_status_code')[0]?.labels).toEqual({ check: 'beta', type: 'tcp', env: 'prod', location: 'lab', via: 'dns' });
  });
});

describe('the /probe exposition', () => {
  it('uses blackbox_exporter names, groups samples by name and passes promtool cleanly', async () => {
    const phases = ['resolve', 'connect', 'tls', 'processing', 'transfer'];
    const text = renderProbe(run('alpha', {
      reason: 'status',
      durationMs: 42,
      probe: [
        { name: 'probe_http_status_code', help: 'Response HTTP status code', value: 404 },
        ...phases.map((phase) => ({ name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels: { phase }, value: 0.01 })),
        { name: 'probe_ssl_earliest_cert_expiry', help: 'Returns last SSL chain expiry in unixtime', value: 1_800_000_000 },
        { name: 'probe_dns_lookup_time_seconds', help: 'Returns the time taken for probe dns lookup in seconds', value: 0.001 },
        { name: 'probe_success', help: 'a check must not set this', value: 1 },
      ],
    })).toString();
    const { code, output } = await promtool(text);
    expect({ code, output }).toEqual({ code: 0, output: '' });
    const all = read(text);
    expect(find(all, 'probe_success').map((s) => s.value)).toEqual([0]);
    expect(valueOf(all, 'probe_duration_seconds', {})).toBe(0.042);
    expect(valueOf(all, 'probe_http_status_code', {})).toBe(404);
    expect(find(all, 'probe_http_duration_seconds').map((s) => s.labels.phase)).toEqual(phases);
    expect(text).toContain('# TYPE probe_ssl_earliest_cert_expiry gauge\n');
    expect(text).toContain('# HELP probe_success Displays whether or not the probe was a success\n');
    expect(all.some((s) => 'check' in s.labels)).toBe(false);
  });
});

describe('text format pieces', () => {
  it('spells special numbers and escapes label values as Prometheus does', () => {
    expect([Number.NaN, Infinity, -Infinity, 0, -0, 1.5, 1e21, 1e-7].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '0', '1.5', '1e+21', '1e-7']);
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});
