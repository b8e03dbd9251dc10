import type { BaseSpec } from '../config/base.js';
import type { SeriesName } from '../results/families.js';
import type { Sample } from '../results/run.js';
import { namesSeries, type SampleSeries, type SampleSeriesTable } from './sample-series.js';
import { escapeLabelValue, formatLabelPairs, writeSample, type TextOut } from './text-format.js';

/** The families the store writes itself; a check type's samples may not use these names. */
const CORE = new Set<SeriesName>([
  'driftwatch_check_success',
  'driftwatch_check_duration_seconds',
  'driftwatch_check_last_run_timestamp_seconds',
  'driftwatch_check_runs_total',
  'driftwatch_check_failures_total',
  'driftwatch_check_blocked',
]);

// Shared by the checks that have not run yet: an empty array is 32 bytes each. takeSamples()
// writes values only over as many series as there are, none here.
const NO_SERIES: readonly SampleSeries[] = [];
const NO_VALUES: number[] = [];

/**
 * One check's series as numbers: what its lines say, not the lines. A class, so its methods are
 * shared rather than a set of closures per check.
 */
export class SeriesEntry {
  successes = 0;
  failures = 0;
  /** Failed runs by reason, in the order the reasons first came; made at the first failure. */
  reasons: Map<string, number> | undefined = undefined;
  /** The last run's gauges; written only once the check is in the last-run families. */
  lastSuccess = 0;
  lastDuration = 0;
  lastFinished = 0;
  /** driftwatch_check_blocked: 0 or 1 for checks with dependsOn, undefined (no series) otherwise. */
  blocked: number | undefined = undefined;
  /** The series the last run's type-specific samples named, and their values, index by index. */
  series: readonly SampleSeries[] = NO_SERIES;
  values: number[] = NO_VALUES;

  constructor(
    public spec: BaseSpec,
    /** check, type, static labels and location, formatted once per spec (baseLabels). */
    public base: string,
    /** Whether the store adds a location label, which a sample's own label of that name then yields to. */
    private readonly located: boolean,
  ) {}

  rebase(spec: BaseSpec, base: string): void {
    this.spec = spec;
    this.base = base;
  }

  /**
   * Takes a run's samples; returns whether the series they name changed. When they are those of
   * the run before (as they almost always are), only the values are written, in place.
   */
  takeSamples(samples: readonly Sample[], table: SampleSeriesTable): boolean {
    const { series, values } = this;
    let same = samples.length === series.length;
    for (let i = 0; same && i < samples.length; i++) {
      const sample = samples[i];
      const known = series[i];
      same = sample !== undefined && known !== undefined && namesSeries(sample, known);
    }
    if (same) {
      samples.forEach((sample, i) => (values[i] = sample.value));
      return false;
    }
    this.series = samples.map((sample) => table.of(sample));
    this.values = samples.map((sample) => sample.value);
    return true;
  }

  countReason(reason: string): void {
    this.reasons ??= new Map();
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  /** Whether `label` is one of the labels in `base` (check, type, a static label, location). */
  hasBaseLabel(label: string): boolean {
    return label === 'check' || label === 'type' || (this.located && label === 'location') || Object.hasOwn(this.spec.labels, label);
  }
}

export function createSeriesEntry(spec: BaseSpec, location: string | undefined, base = baseLabels(spec, location)): SeriesEntry {
  return new SeriesEntry(spec, base, location !== undefined);
}

/** The labels every series of the check carries, formatted: check, type, static labels, location. */
export function baseLabels(spec: BaseSpec, location: string | undefined): string {
  const labels: Record<string, string> = { check: spec.name, type: spec.type };
  // Sorted so a reload that only reorders the YAML keeps the same series text.
  for (const key of Object.keys(spec.labels).sort()) labels[key] = spec.labels[key] ?? '';
  if (location !== undefined) labels.location = location;
  return formatLabelPairs(labels);
}

/** The type-specific families the samples have lines in, each once, in the order they first come. */
export function sampleFamilies(samples: readonly { name: SeriesName }[]): SeriesName[] {
  const names: SeriesName[] = [];
  for (const { name } of samples) if (!CORE.has(name) && !names.includes(name)) names.push(name);
  return names;
}

const RESULT_SUCCESS = 'result="success"';
const RESULT_FAILURE = 'result="failure"';
/** `reason="..."` per reason: a closed set of names, formatted once. */
const reasonPairs = new Map<string, string>();

function reasonLabel(reason: string): string {
  let pairs = reasonPairs.get(reason);
  if (pairs === undefined) {
    pairs = formatLabelPairs({ reason });
    if (reasonPairs.size < 64) reasonPairs.set(reason, pairs);
  }
  return pairs;
}

/** The lines of family `name` for checks[from..to), appended to `out`. */
export function renderFamily(name: SeriesName, checks: readonly SeriesEntry[], from: number, to: number, out: TextOut): void {
  for (let i = from; i < to; i++) {
    const entry = checks[i];
    if (entry !== undefined) renderLines(name, entry, out);
  }
}

function renderLines(name: SeriesName, entry: SeriesEntry, out: TextOut): void {
  const { base } = entry;
  switch (name) {
    case 'driftwatch_check_success':
      writeSample(out, name, base, '', entry.lastSuccess);
      return;
    case 'driftwatch_check_duration_seconds':
      writeSample(out, name, base, '', entry.lastDuration);
      return;
    case 'driftwatch_check_last_run_timestamp_seconds':
      writeSample(out, name, base, '', entry.lastFinished);
      return;
    case 'driftwatch_check_runs_total':
      writeSample(out, name, base, RESULT_SUCCESS, entry.successes);
      writeSample(out, name, base, RESULT_FAILURE, entry.failures);
      return;
    case 'driftwatch_check_failures_total':
      for (const [reason, count] of entry.reasons ?? []) writeSample(out, name, base, reasonLabel(reason), count);
      return;
    case 'driftwatch_check_blocked':
      writeSample(out, name, base, '', entry.blocked ?? 0);
      return;
    default:
      entry.series.forEach((series, i) => {
        if (series.name === name) writeSample(out, name, base, seriesPairs(series, entry), entry.values[i] ?? 0);
      });
  }
}

/**
 * A sample's own label pairs, without the labels `base` has: a duplicate label name would make
 * Prometheus reject the whole scrape, for every check, so the store's own labels win over a
 * check type's mistake. Almost always the series' text as it is.
 */
function seriesPairs(series: SampleSeries, entry: SeriesEntry): string {
  if (series.labels === undefined || !series.keys.some((key) => entry.hasBaseLabel(key))) return series.pairs;
  let pairs = '';
  for (const key of series.keys) {
    if (entry.hasBaseLabel(key)) continue;
    pairs = `${pairs}${pairs === '' ? '' : ','}${key}="${escapeLabelValue(series.labels[key] ?? '')}"`;
  }
  return pairs;
}
