import { describe, expect, it } from 'vitest';
import { summarize, type Contender, type Kind, type Segment } from '../bench/lib/probe-summary.js';

/**
 * Issue 29's first "Must show": `npm run bench -- --only probe,limit` prints CPU per probe and
 * KB allocated per probe for driftwatch, blackbox_exporter, the raw limit (and the minimal
 * server) side by side, with driftwatch's ratios to each. The figures are the bench's to
 * measure; this pins what it prints from them: medians over rounds, per contender and kind.
 */
const CONTENDERS: Contender[] = ['driftwatch', 'blackbox', 'node-raw', 'node-minimal'];

/** CPU s per 1,000 answers, KB per answer, answers a second: two rounds each, the median between them. */
const FIGURES: Record<Contender, { cpu: [number, number]; kb: [number, number]; rps: [number, number] }> = {
  driftwatch: { cpu: [0.24, 0.26], kb: [50, 51], rps: [4900, 5100] },
  blackbox: { cpu: [0.7, 0.71], kb: [199, 200], rps: [2200, 2300] },
  'node-raw': { cpu: [0.13, 0.15], kb: [26, 26.2], rps: [7400, 7600] },
  'node-minimal': { cpu: [0.18, 0.19], kb: [33.2, 33.4], rps: [5400, 5500] },
};

function segments(): Segment[] {
  const all: Segment[] = [];
  for (const kind of ['http', 'dns'] as Kind[]) {
    for (const round of [0, 1]) {
      for (const contender of CONTENDERS) {
        const f = FIGURES[contender];
        all.push({ round, contender, kind, rps: f.rps[round] ?? 0, p50Ms: 2, p99Ms: 6, requests: 1000, ok: 1000, bad: 0, errors: 0, cpuSecondsPer1000: f.cpu[round] ?? 0, allocKbPerProbe: f.kb[round] ?? 0, load: 1 });
      }
    }
  }
  return all;
}

describe('bench probe,limit summary', () => {
  const results = summarize(segments(), CONTENDERS, { peakRssBytes: () => 100 * 2 ** 20, idleRssBytes: () => 50 * 2 ** 20 }, { connections: 16, client: 'wrk', rounds: 2, seconds: 10 });
  const rows = results.table.split('\n').filter((line) => line.startsWith('| '));
  const row = (name: string) => rows.find((line) => line.startsWith(`| ${name} `))?.split('|').map((cell) => cell.trim()) ?? [];

  it('prints CPU us and KB allocated per probe for every contender side by side', () => {
    expect(row('probe').slice(1, -1)).toEqual(['probe', 'req/s', 'p50 ms', 'p99 ms', 'CPU us/probe', 'KB alloc/probe', 'peak RSS MB', 'ok', 'load']);
    for (const kind of ['http', 'dns']) {
      expect(row(`${kind} driftwatch`).slice(5, 7)).toEqual(['250', '50.5']);
      expect(row(`${kind} blackbox`).slice(5, 7)).toEqual(['705', '199.5']);
      expect(row(`${kind} raw limit`).slice(5, 7)).toEqual(['140', '26.1']);
      expect(row(`${kind} minimal server`).slice(5, 7)).toEqual(['185', '33.3']);
    }
  });

  it("prints driftwatch's ratios to blackbox, the raw limit and the minimal server", () => {
    // req/s, p50, p99, CPU per probe, KB per probe.
    expect(row('http driftwatch/blackbox').slice(2, 7)).toEqual(['2.22x', '1.00x', '1.00x', '0.35x', '0.25x']);
    expect(row('http driftwatch/raw limit').slice(2, 7)).toEqual(['0.67x', '1.00x', '1.00x', '1.79x', '1.94x']);
    expect(row('http driftwatch/minimal server').slice(2, 7)).toEqual(['0.92x', '1.00x', '1.00x', '1.35x', '1.52x']);
    expect(results.ratios.http).toMatchObject({ rps: 2.222, cpuPerProbe: 0.355, allocPerProbe: 0.253 });
    expect(results.summary.find((s) => s.kind === 'http' && s.contender === 'driftwatch')).toMatchObject({ cpuUsPerProbe: 250, allocKbPerProbe: 50.5, rps: 5000 });
  });
});
