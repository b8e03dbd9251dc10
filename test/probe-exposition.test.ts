import { describe, expect, it } from 'vitest';
import { renderProbe } from '../src/metrics/probe-exposition.js';
import { formatHeader, formatLabelPairs, formatValue } from '../src/metrics/text-format.js';
import type { ProbeSample, Run } from '../src/results/run.js';

/** The exposition as renderProbe wrote it before it wrote bytes: a plain, unoptimised reading of the format. */
function reference(samples: ProbeSample[], ok: boolean, durationMs: number, timeoutMs?: number): string {
  const runner: ProbeSample[] = [
    { name: 'probe_success', help: 'Displays whether or not the probe was a success', value: ok ? 1 : 0 },
    { name: 'probe_duration_seconds', help: 'Returns how long the probe took to complete in seconds', value: durationMs / 1000 },
  ];
  if (timeoutMs !== undefined) runner.push({ name: 'probe_timeout_seconds', help: 'Returns the time limit the probe ran under in seconds', value: timeoutMs / 1000 });
  const own = new Set(['probe_success', 'probe_duration_seconds', 'probe_timeout_seconds']);
  const all = [...runner, ...samples.filter((s) => !own.has(s.name) || (timeoutMs === undefined && s.name === 'probe_timeout_seconds'))];
  const names = [...new Set(all.map((s) => s.name))].sort();
  let text = '';
  for (const name of names) {
    const family = all.filter((s) => s.name === name);
    text += formatHeader(name, family[0]?.help ?? '', 'gauge');
    for (const s of family) {
      const pairs = s.labels ? formatLabelPairs(s.labels) : '';
      text += `${name}${pairs === '' ? '' : `{${pairs}}`} ${formatValue(s.value)}\n`;
    }
  }
  return text;
}

function run(samples: ProbeSample[], ok = true, durationMs = 12.5): Run {
  return {
    result: { name: 'c', type: 'http', ok, message: ok ? 'ok' : 'failed', startedAt: '2026-12-07T10:00:00.000Z', durationMs, observations: {} },
    samples: [],
    probeSamples: () => samples,
  };
}

const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'].map((phase) => ({ phase }));

function http(status: number, seconds: number): ProbeSample[] {
  return [
    { name: 'probe_http_status_code', help: 'Response HTTP status code', value: status },
    ...PHASES.map((labels) => ({ name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels, value: seconds })),
    { name: 'probe_ip_protocol', help: 'Specifies whether probe ip protocol is IP4 or IP6', value: 4 },
    { name: 'probe_dns_lookup_time_seconds', help: 'Returns the time taken for probe dns lookup in seconds', value: Number.NaN },
  ];
}

describe('renderProbe', () => {
  it('writes exactly the plain rendering, probe after probe, while the labels objects repeat', () => {
    for (let i = 0; i < 5; i++) {
      const samples = http(200 + i, i / 7);
      expect(renderProbe(run(samples, i % 2 === 0, i * 3.25), i === 3 ? undefined : 5000).toString('utf8')).toBe(reference(samples, i % 2 === 0, i * 3.25, i === 3 ? undefined : 5000));
    }
  });

  it('keeps a family its first help, a shared labels object to its own name, and non-ASCII text whole', () => {
    const labels = { target: 'ünïcode ✓ 𝄞', quote: 'a"b\\c\nd' };
    const samples: ProbeSample[] = [
      { name: 'probe_b', help: 'first help', labels, value: 1 },
      { name: 'probe_b', help: 'other help', value: Infinity },
      { name: 'probe_a', help: 'help with \\ and\nnewline', labels, value: -0 },
      { name: 'probe_a', help: 'help with \\ and\nnewline', labels: {}, value: 1e21 },
      { name: 'probe_timeout_seconds', help: 'a check may set this when the runner does not', value: 3 },
      { name: 'probe_success', help: 'a check must not set this', value: 1 },
    ];
    for (const timeout of [undefined, 1500, undefined]) {
      const bytes = renderProbe(run(samples, false), timeout);
      expect(bytes.toString('utf8')).toBe(reference(samples, false, 12.5, timeout));
      expect(bytes.length).toBe(Buffer.byteLength(reference(samples, false, 12.5, timeout)));
    }
  });

  it('writes an answer larger than the buffer it keeps, and a small one after it', () => {
    const many: ProbeSample[] = Array.from({ length: 2000 }, (_, i) => ({ name: `probe_family_${String(i % 40).padStart(2, '0')}`, help: `help ${i % 40}`, labels: { index: `${i}`, text: 'x'.repeat(i % 50) }, value: i }));
    const big = renderProbe(run(many));
    expect(big.length).toBeGreaterThan(64 * 1024);
    expect(big.toString('utf8')).toBe(reference(many, true, 12.5));
    const small = http(404, 0.5);
    expect(renderProbe(run(small), 2000).toString('utf8')).toBe(reference(small, true, 12.5, 2000));
    // The first answer is its own copy: the next render did not write over it.
    expect(big.toString('utf8')).toBe(reference(many, true, 12.5));
  });
});
