import { MB } from './proc.js';
import { fixed, median, ratio, round } from './stats.js';
import { markdownTable } from './table.js';

export type Contender = 'driftwatch' | 'blackbox' | 'node-raw' | 'node-minimal';
export type Kind = 'http' | 'dns';
const KINDS = ['http', 'dns'] as const;

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
  /** V8 heap bytes (Go heap bytes for blackbox) allocated over the segment, per answer; NaN when not measured. */
  allocKbPerProbe: number;
  load: number;
}

export interface ProbeSummary {
  contender: Contender;
  kind: Kind;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuSecondsPer1000: number;
  cpuUsPerProbe: number;
  allocKbPerProbe: number;
  okShare: number;
  peakRssMb: number;
  idleRssMb: number;
  load: number;
}

/** driftwatch's figures divided by another contender's (x of it). */
export interface Ratios {
  rps: number;
  p50: number;
  p99: number;
  cpuPerProbe: number;
  allocPerProbe: number;
  peakRss: number;
}

export interface ProbeResults {
  segments: Segment[];
  summary: ProbeSummary[];
  /** driftwatch / blackbox_exporter. */
  ratios: Record<Kind, Ratios | undefined>;
  /** driftwatch / the raw node limit. */
  limitRatios: Record<Kind, Ratios | undefined>;
  /** driftwatch / a minimal fastify server making the same request (issue 29's anchor). */
  minimalRatios: Record<Kind, Ratios | undefined>;
  table: string;
}

export interface Memory {
  peakRssBytes(contender: Contender, kind: Kind): number;
  idleRssBytes(contender: Contender): number;
}

/** Medians over rounds per contender and kind, the ratios, and the table printed at the end. */
export function summarize(segments: readonly Segment[], contenders: readonly Contender[], memory: Memory, options: { connections: number; client: string; rounds: number; seconds: number }): ProbeResults {
  const summary: ProbeSummary[] = [];
  for (const kind of KINDS) {
    for (const contender of contenders) {
      const mine = segments.filter((s) => s.kind === kind && s.contender === contender);
      const requests = mine.reduce((n, s) => n + s.requests, 0);
      const cpuSecondsPer1000 = median(mine.map((s) => s.cpuSecondsPer1000));
      summary.push({
        contender,
        kind,
        rps: median(mine.map((s) => s.rps)),
        p50Ms: median(mine.map((s) => s.p50Ms)),
        p99Ms: median(mine.map((s) => s.p99Ms)),
        cpuSecondsPer1000,
        cpuUsPerProbe: cpuSecondsPer1000 * 1000,
        allocKbPerProbe: median(mine.map((s) => s.allocKbPerProbe)),
        okShare: requests === 0 ? 0 : mine.reduce((n, s) => n + s.ok, 0) / requests,
        peakRssMb: memory.peakRssBytes(contender, kind) / MB,
        idleRssMb: memory.idleRssBytes(contender) / MB,
        load: median(mine.map((s) => s.load)),
      });
    }
  }
  const ratios = { http: ratiosFor(summary, 'http', 'blackbox'), dns: ratiosFor(summary, 'dns', 'blackbox') };
  const limitRatios = { http: ratiosFor(summary, 'http', 'node-raw'), dns: ratiosFor(summary, 'dns', 'node-raw') };
  const minimalRatios = { http: ratiosFor(summary, 'http', 'node-minimal'), dns: ratiosFor(summary, 'dns', 'node-minimal') };
  return { segments: [...segments], summary: summary.map(rounded), ratios, limitRatios, minimalRatios, table: probeTable(summary, { blackbox: ratios, raw: limitRatios, minimal: minimalRatios }, options) };
}

function ratiosFor(summary: ProbeSummary[], kind: Kind, other: Contender): Ratios | undefined {
  const dw = summary.find((s) => s.kind === kind && s.contender === 'driftwatch');
  const them = summary.find((s) => s.kind === kind && s.contender === other);
  if (!dw || !them) return undefined;
  return {
    rps: round(ratio(dw.rps, them.rps)),
    p50: round(ratio(dw.p50Ms, them.p50Ms)),
    p99: round(ratio(dw.p99Ms, them.p99Ms)),
    cpuPerProbe: round(ratio(dw.cpuSecondsPer1000, them.cpuSecondsPer1000)),
    allocPerProbe: round(ratio(dw.allocKbPerProbe, them.allocKbPerProbe)),
    peakRss: round(ratio(dw.peakRssMb, them.peakRssMb)),
  };
}

function rounded(s: ProbeSummary): ProbeSummary {
  return { ...s, rps: round(s.rps, 0), p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms), cpuSecondsPer1000: round(s.cpuSecondsPer1000, 4), cpuUsPerProbe: round(s.cpuUsPerProbe, 0), allocKbPerProbe: round(s.allocKbPerProbe, 1), okShare: round(s.okShare, 4), peakRssMb: round(s.peakRssMb, 1), idleRssMb: round(s.idleRssMb, 1) };
}

const LABELS: Record<Contender, string> = { driftwatch: 'driftwatch', blackbox: 'blackbox', 'node-raw': 'raw limit', 'node-minimal': 'minimal server' };

function probeTable(summary: ProbeSummary[], ratios: Record<'blackbox' | 'raw' | 'minimal', ProbeResults['ratios']>, options: { connections: number; client: string; rounds: number; seconds: number }): string {
  const rows: string[][] = [];
  const ratioRow = (name: string, r: Ratios | undefined) => {
    if (r) rows.push([name, `${fixed(r.rps, 2)}x`, `${fixed(r.p50, 2)}x`, `${fixed(r.p99, 2)}x`, `${fixed(r.cpuPerProbe, 2)}x`, `${fixed(r.allocPerProbe, 2)}x`, `${fixed(r.peakRss, 2)}x`, '', '']);
  };
  for (const kind of KINDS) {
    for (const s of summary.filter((x) => x.kind === kind)) {
      rows.push([`${kind} ${LABELS[s.contender]}`, fixed(s.rps, 0), fixed(s.p50Ms, 2), fixed(s.p99Ms, 2), fixed(s.cpuUsPerProbe, 0), fixed(s.allocKbPerProbe, 1), fixed(s.peakRssMb, 1), `${fixed(s.okShare * 100, 1)}%`, fixed(s.load, 1)]);
    }
    ratioRow(`${kind} driftwatch/blackbox`, ratios.blackbox[kind]);
    ratioRow(`${kind} driftwatch/raw limit`, ratios.raw[kind]);
    ratioRow(`${kind} driftwatch/minimal server`, ratios.minimal[kind]);
  }
  const title = `On-demand probes: ${options.connections} keep-alive callers (${options.client}), ${options.rounds} rounds x ${options.seconds} s, interleaved; medians over rounds. CPU: the process's user+system time per answer (raw limit: the client process itself; minimal server: a fastify server making the same request, nothing else). Allocated: V8 heap bytes per answer (blackbox: go_memstats_alloc_bytes_total)`;
  return `${title}\n\n${markdownTable(['probe', 'req/s', 'p50 ms', 'p99 ms', 'CPU us/probe', 'KB alloc/probe', 'peak RSS MB', 'ok', 'load'], rows)}`;
}
