import type { Sample } from '../../src/results/run.js';
import type { BaseSpec } from '../../src/config/base.js';
import { FAMILIES, type SeriesName } from '../../src/results/families.js';
import type { SeriesCheck, SeriesStore } from '../../src/metrics/series-store.js';
import { formatHeader, formatLabelPairs, formatSample } from '../../src/metrics/text-format.js';

/** The store's interface as it was then (it could not stage a reload). */
export type EagerSeriesStore = Omit<SeriesStore, 'stage'>;

// The series store as it was before it rendered lazily (commit 5f6e09e): every run rendered the
// check's lines and cached them per family. Kept here, unchanged but for this header and its
// imports, as the reference the lazy store's text must equal byte for byte.

/** The families the store writes itself; a check type's samples may not use these names. */
const CORE = new Set<SeriesName>([
  'driftwatch_check_success',
  'driftwatch_check_duration_seconds',
  'driftwatch_check_last_run_timestamp_seconds',
  'driftwatch_check_runs_total',
  'driftwatch_check_failures_total',
  'driftwatch_check_blocked',
]);

const NAMES = Object.keys(FAMILIES) as SeriesName[];
/** About 100 kB of text per piece: a fraction of a millisecond to join. */
const CHECKS_PER_CHUNK = 1000;
const HEADERS = new Map(NAMES.map((name) => [name, formatHeader(name, FAMILIES[name].help, FAMILIES[name].kind)]));

interface Entry {
  spec: BaseSpec;
  /** check, type, static labels and location, formatted once per spec. */
  base: string;
  baseNames: ReadonlySet<string>;
  runs: { success: number; failure: number };
  failures: Map<string, number>;
  last: { success: number; duration: number; finished: number } | undefined;
  /** driftwatch_check_blocked: 0 or 1 for checks with dependsOn, undefined (no series) otherwise. */
  blocked: number | undefined;
  samples: readonly Sample[];
  /** Families this check currently has lines in, so a re-render can drop the ones it lost. */
  families: SeriesName[];
}

export function createEagerSeriesStore(options: { location?: string }): EagerSeriesStore {
  const location = options.location === '' ? undefined : options.location;
  const entries = new Map<string, Entry>();
  // Family -> check -> that check's lines. Created in FAMILIES order, which is the render order.
  const lines = new Map<SeriesName, Map<string, string>>(NAMES.map((name) => [name, new Map()]));

  function baseLabels(spec: BaseSpec): { base: string; baseNames: Set<string> } {
    const labels: Record<string, string> = { check: spec.name, type: spec.type };
    // Sorted so a reload that only reorders the YAML keeps the same series text.
    for (const key of Object.keys(spec.labels).sort()) labels[key] = spec.labels[key] ?? '';
    if (location !== undefined) labels.location = location;
    return { base: formatLabelPairs(labels), baseNames: new Set(Object.keys(labels)) };
  }

  function ensure({ spec, dependencies }: SeriesCheck): Entry {
    const entry = entries.get(spec.name);
    if (entry === undefined) {
      const created: Entry = { spec, ...baseLabels(spec), runs: { success: 0, failure: 0 }, failures: new Map(), last: undefined, blocked: undefined, samples: [], families: [] };
      entries.set(spec.name, created);
      return created;
    }
    if (entry.spec !== spec) Object.assign(entry, { spec }, baseLabels(spec));
    // A reload that adds or drops dependsOn adds or drops the series; its value is kept.
    entry.blocked = dependencies.length > 0 ? (entry.blocked ?? 0) : undefined;
    return entry;
  }

  function renderEntry(entry: Entry): void {
    const next = new Map<SeriesName, string[]>();
    const add = (name: SeriesName, pairs: string, value: number) => {
      const line = formatSample(name, pairs === '' ? entry.base : `${entry.base},${pairs}`, value);
      const family = next.get(name);
      if (family) family.push(line);
      else next.set(name, [line]);
    };
    if (entry.last) {
      add('driftwatch_check_success', '', entry.last.success);
      add('driftwatch_check_duration_seconds', '', entry.last.duration);
      add('driftwatch_check_last_run_timestamp_seconds', '', entry.last.finished);
    }
    add('driftwatch_check_runs_total', 'result="success"', entry.runs.success);
    add('driftwatch_check_runs_total', 'result="failure"', entry.runs.failure);
    for (const [reason, count] of entry.failures) add('driftwatch_check_failures_total', formatLabelPairs({ reason }), count);
    if (entry.blocked !== undefined) add('driftwatch_check_blocked', '', entry.blocked);
    for (const sample of entry.samples) {
      // A duplicate family or label name would make Prometheus reject the whole scrape, for
      // every check; the store's own series and labels win over a check type's mistake.
      if (CORE.has(sample.name)) continue;
      add(sample.name, sample.labels ? formatLabelPairs(withoutNames(sample.labels, entry.baseNames)) : '', sample.value);
    }
    for (const name of entry.families) if (!next.has(name)) lines.get(name)?.delete(entry.spec.name);
    // join() yields a flat string; `+` would leave a tree of string pieces that every scrape
    // would have to walk again when the response is written (measured: most of the render cost).
    for (const [name, family] of next) lines.get(name)?.set(entry.spec.name, family.join(''));
    entry.families = [...next.keys()];
  }

  return {
    record(check, run) {
      const entry = ensure(check);
      const { result } = run;
      if (entry.blocked !== undefined) entry.blocked = result.blocked ? 1 : 0;
      // A blocked check was not run: no counter moves, so failure rates and alerts see only the root cause.
      if (result.ok) {
        entry.runs.success += 1;
      } else if (result.blocked === undefined) {
        entry.runs.failure += 1;
        const reason = result.reason ?? 'error';
        entry.failures.set(reason, (entry.failures.get(reason) ?? 0) + 1);
      }
      const duration = result.durationMs / 1000;
      entry.last = { success: result.ok ? 1 : 0, duration, finished: Date.parse(result.startedAt) / 1000 + duration };
      entry.samples = run.samples;
      renderEntry(entry);
    },
    declare(check) {
      renderEntry(ensure(check));
    },
    remove(name) {
      const entry = entries.get(name);
      if (entry === undefined) return;
      for (const family of entry.families) lines.get(family)?.delete(name);
      entries.delete(name);
    },
    render() {
      const parts: string[] = [];
      for (const [name, byCheck] of lines) {
        if (byCheck.size === 0) continue;
        parts.push(HEADERS.get(name) ?? '');
        for (const text of byCheck.values()) parts.push(text);
      }
      return parts.join('');
    },
    *renderChunks(checksPerChunk = CHECKS_PER_CHUNK) {
      for (const [name, byCheck] of lines) {
        if (byCheck.size === 0) continue;
        const texts = [...byCheck.values()];
        for (let at = 0; at < texts.length; at += checksPerChunk) {
          const piece = texts.slice(at, at + checksPerChunk);
          if (at === 0) piece.unshift(HEADERS.get(name) ?? '');
          yield piece.join('');
        }
      }
    },
  };
}

function withoutNames(labels: Readonly<Record<string, string>>, names: ReadonlySet<string>): Readonly<Record<string, string>> {
  if (!Object.keys(labels).some((key) => names.has(key))) return labels;
  return Object.fromEntries(Object.entries(labels).filter(([key]) => !names.has(key)));
}
