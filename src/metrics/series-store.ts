import type { Sample } from '../results/run.js';
import type { LoadedCheck } from '../config/check-types.js';
import type { Run } from '../results/run.js';
import { FAMILIES, type SeriesName } from '../results/families.js';
import { formatHeader } from './text-format.js';
import { SampleSeriesTable } from './sample-series.js';
import { baseLabels, createSeriesEntry, renderFamily, sampleFamilies, SeriesEntry } from './series-entry.js';

/**
 * The per-check series, kept outside prom-client (DESIGN section 3). A run only moves numbers
 * and keeps its samples; the text is written when a scrape reads it, from those numbers, so a
 * check costs no text between scrapes (at 100,000 checks the cached text was ~100 MB of heap,
 * rewritten on every run). Label names are per series, not per family, so checks with different
 * static label keys coexist and a reload that adds a key needs nothing special.
 */
/** What the store reads of a loaded check: its spec's name, type and labels, and its dependencies. */
export type SeriesCheck = Pick<LoadedCheck, 'spec' | 'dependencies'>;

export interface SeriesStore {
  /**
   * After every run: sets success, duration, last-run timestamp, increments the counters, and REPLACES the check's type-specific samples with run.samples (so series that went away, e.g. an old DNS answer, disappear).
   * A blocked result (not run: a dependency fails) sets success 0 and driftwatch_check_blocked 1, counts no run and no failure, and leaves no type-specific series (nothing was observed).
   */
  record(check: SeriesCheck, run: Run): void;
  /** On load/reload, before any run: make the check's counters exist at 0 (runs_total for both results) so rate() works from the first scrape. Idempotent; keeps existing counts. */
  declare(check: SeriesCheck): void;
  /** A check removed by a reload: all its series go. */
  remove(name: string): void;
  /**
   * remove() of `removed` then declare() of `declared`, for a reload of many checks: the labels
   * are formatted in steps of `chunk` checks (the caller turns the event loop at each yield)
   * without changing what render() gives, and commit() applies it all in one step.
   */
  stage(declared: readonly SeriesCheck[], removed: readonly string[], chunk: number): Generator<void, { commit(): void }>;
  /** Text exposition format 0.0.4 of all per-check families, each family grouped under one # HELP and # TYPE. */
  render(): string;
  /**
   * The same text in pieces of at most `checksPerChunk` checks of one family, for writing out
   * with the event loop free between pieces. A family's checks are taken when its first piece
   * is made, so a check re-added meanwhile cannot appear twice in it; each piece is written
   * from its checks' numbers when it is made.
   */
  renderChunks(checksPerChunk?: number): Generator<string>;
}

const NAMES = Object.keys(FAMILIES) as SeriesName[];
/** About 100 kB of text per piece: a millisecond or two to write. */
const CHECKS_PER_CHUNK = 1000;
const HEADERS = new Map(NAMES.map((name) => [name, formatHeader(name, FAMILIES[name].help, FAMILIES[name].kind)]));

/**
 * Which checks have lines in each family, in the order the text lists them: the order in which
 * they (re)gained lines there, as when each check's lines were kept per family. The three
 * last-run gauges share one set (a check has all three or none); runs_total is every check, in
 * the order of `entries`.
 */
function createMembers(): Map<SeriesName, Set<SeriesEntry>> {
  const lastRun = new Set<SeriesEntry>();
  const members = new Map<SeriesName, Set<SeriesEntry>>();
  for (const name of NAMES) {
    if (name === 'driftwatch_check_runs_total') continue;
    const last = name === 'driftwatch_check_success' || name === 'driftwatch_check_duration_seconds' || name === 'driftwatch_check_last_run_timestamp_seconds';
    members.set(name, last ? lastRun : new Set());
  }
  return members;
}

export function createSeriesStore(options: { location?: string }): SeriesStore {
  const location = options.location === '' ? undefined : options.location;
  const entries = new Map<string, SeriesEntry>();
  const members = createMembers();
  const table = new SampleSeriesTable();
  const join = (name: SeriesName, entry: SeriesEntry) => members.get(name)?.add(entry);
  const leave = (name: SeriesName, entry: SeriesEntry) => members.get(name)?.delete(entry);
  const blocked = members.get('driftwatch_check_blocked') ?? new Set<SeriesEntry>();
  const lastRun = members.get('driftwatch_check_success') ?? new Set<SeriesEntry>();
  const failing = members.get('driftwatch_check_failures_total') ?? new Set<SeriesEntry>();

  /** The check's entry, made or brought to its spec; `base` is baseLabels(spec) when the caller has it already. */
  function ensure({ spec, dependencies }: SeriesCheck, base?: string): SeriesEntry {
    const entry = entries.get(spec.name);
    if (entry === undefined) {
      // As before the store rendered lazily: a new check's blocked series comes with its first
      // run (or its next declare), not with the call that created it.
      const created = createSeriesEntry(spec, location, base);
      entries.set(spec.name, created);
      return created;
    }
    if (entry.spec !== spec) entry.rebase(spec, base ?? baseLabels(spec, location));
    // A reload that adds or drops dependsOn adds or drops the series; its value is kept.
    const was = entry.blocked;
    entry.blocked = dependencies.length > 0 ? (was ?? 0) : undefined;
    // A check is in the blocked set exactly while it has the series.
    if (was !== undefined && entry.blocked === undefined) blocked.delete(entry);
    else if (was === undefined && entry.blocked !== undefined) blocked.add(entry);
    return entry;
  }

  function remove(name: string): void {
    const entry = entries.get(name);
    if (entry === undefined) return;
    // Only the sets it can be in: at 100,000 checks a reload may remove them all in one step.
    lastRun.delete(entry);
    if (entry.reasons !== undefined) failing.delete(entry);
    if (entry.blocked !== undefined) blocked.delete(entry);
    for (const { name: family } of entry.series) leave(family, entry);
    entries.delete(name);
  }

  function* stage(declared: readonly SeriesCheck[], removed: readonly string[], chunk: number): Generator<void, { commit(): void }> {
    // The costly part of declare(), done ahead: formatting the labels of a new or changed spec,
    // and making the entry of a new check.
    const ready: (SeriesEntry | string | undefined)[] = [];
    for (let i = 0; i < declared.length; i++) {
      if (i > 0 && i % chunk === 0) yield;
      const spec = declared[i]?.spec;
      const entry = spec === undefined ? undefined : entries.get(spec.name);
      if (spec === undefined || entry?.spec === spec) ready.push(undefined);
      else ready.push(entry === undefined ? createSeriesEntry(spec, location) : baseLabels(spec, location));
    }
    return {
      commit() {
        for (const name of removed) remove(name);
        declared.forEach((check, i) => {
          const prepared = ready[i];
          // A new check whose name is still free takes its entry as made; else as declare() would.
          if (prepared instanceof SeriesEntry && prepared.spec === check.spec && !entries.has(check.spec.name)) entries.set(check.spec.name, prepared);
          else ensure(check, typeof prepared === 'string' ? prepared : prepared?.base);
        });
      },
    };
  }

  /** A run's samples; when they name other series than the run before, the families left and joined. */
  function replaceSamples(entry: SeriesEntry, samples: readonly Sample[]): void {
    const before = entry.series;
    if (!entry.takeSamples(samples, table)) return;
    const left = sampleFamilies(before);
    const joined = sampleFamilies(entry.series);
    for (const name of left) if (!joined.includes(name)) leave(name, entry);
    for (const name of joined) join(name, entry);
  }

  function* familyPieces(name: SeriesName, checksPerChunk: number): Generator<string> {
    const checks = name === 'driftwatch_check_runs_total' ? [...entries.values()] : [...(members.get(name) ?? [])];
    for (let at = 0; at < checks.length; at += checksPerChunk) {
      const out = { text: at === 0 ? (HEADERS.get(name) ?? '') : '' };
      renderFamily(name, checks, at, Math.min(checks.length, at + checksPerChunk), out);
      yield out.text;
    }
  }

  function* pieces(checksPerChunk: number): Generator<string> {
    for (const name of NAMES) yield* familyPieces(name, checksPerChunk);
  }

  return {
    record(check, run) {
      const entry = ensure(check);
      const { result } = run;
      if (entry.blocked !== undefined) entry.blocked = result.blocked ? 1 : 0;
      // A blocked check was not run: no counter moves, so failure rates and alerts see only the root cause.
      if (result.ok) {
        entry.successes += 1;
      } else if (result.blocked === undefined) {
        entry.failures += 1;
        entry.countReason(result.reason ?? 'error');
        join('driftwatch_check_failures_total', entry);
      }
      const duration = result.durationMs / 1000;
      entry.lastSuccess = result.ok ? 1 : 0;
      entry.lastDuration = duration;
      entry.lastFinished = Date.parse(result.startedAt) / 1000 + duration;
      join('driftwatch_check_success', entry);
      replaceSamples(entry, run.samples);
    },
    declare(check) {
      ensure(check);
    },
    remove,
    stage,
    render() {
      return [...pieces(Number.MAX_SAFE_INTEGER)].join('');
    },
    renderChunks: (checksPerChunk = CHECKS_PER_CHUNK) => pieces(checksPerChunk),
  };
}
