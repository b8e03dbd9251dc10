import type { RunTiming } from '../state/state-store.js';

// Uptime over 1 h / 24 h / 7 d: from Prometheus when the daemon was given one (it keeps weeks of
// driftwatch_check_success), else from the runs this daemon holds in memory, saying since when.

export const UPTIME_WINDOWS = [
  { key: '1h', ms: 3_600_000 },
  { key: '24h', ms: 86_400_000 },
  { key: '7d', ms: 604_800_000 },
] as const;
export type UptimeWindow = (typeof UPTIME_WINDOWS)[number]['key'];

/** One uptime figure: a ratio 0..1 (undefined: no runs in the window) and where it comes from. */
export interface UptimeFigure {
  ratio: number | undefined;
  from: 'prometheus' | 'memory';
  /** Memory only: the oldest run counted, when the history kept starts inside the window. */
  since?: number;
  /** Memory only: how many runs the figure counts. */
  runs?: number;
}
export type Uptimes = Record<UptimeWindow, UptimeFigure>;

/** What Prometheus answered for a set of checks, or why it did not. */
export type UptimeAnswer =
  | { ok: true; at: number; values: ReadonlyMap<string, Partial<Record<UptimeWindow, number>>> }
  | { ok: false; problem: string };

/** Where long-range uptime comes from (Prometheus); never rejects: a failure is an answer. */
export interface UptimeSource {
  readonly timeoutMs: number;
  read(checks: readonly string[], now: number): Promise<UptimeAnswer>;
}

/** The in-memory figure: the share of the kept runs in each window that passed (blocked runs count as down, as in driftwatch_check_success). */
export function memoryUptime(timings: readonly RunTiming[], now: number): Uptimes {
  const figure = (ms: number): UptimeFigure => {
    const start = now - ms;
    const inside = timings.filter((t) => t.at >= start);
    const first = inside[0];
    const partial = first !== undefined && timings.length === inside.length;
    return {
      ratio: inside.length === 0 ? undefined : inside.filter((t) => t.ok).length / inside.length,
      from: 'memory',
      runs: inside.length,
      ...(partial && { since: first.at }),
    };
  };
  return { '1h': figure(3_600_000), '24h': figure(86_400_000), '7d': figure(604_800_000) };
}

/** Prometheus's figures for one check where it has them, the memory figure for the rest. */
export function uptimesFor(name: string, timings: readonly RunTiming[], answer: UptimeAnswer | undefined, now: number): Uptimes {
  const memory = memoryUptime(timings, now);
  if (!answer?.ok) return memory;
  const values = answer.values.get(name);
  if (values === undefined) return memory;
  const pick = (key: UptimeWindow): UptimeFigure => {
    const ratio = values[key];
    return ratio === undefined ? memory[key] : { ratio, from: 'prometheus' };
  };
  return { '1h': pick('1h'), '24h': pick('24h'), '7d': pick('7d') };
}

/** "99.93%": two decimals, as Prometheus's ratio x 100; "-" without runs. */
export function formatUptime(ratio: number | undefined): string {
  return ratio === undefined ? '-' : `${(ratio * 100).toFixed(2)}%`;
}
