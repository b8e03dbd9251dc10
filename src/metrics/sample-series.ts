import type { SeriesName } from '../results/families.js';
import type { Sample } from '../results/run.js';
import { formatLabelPairs } from './text-format.js';

/**
 * One series a check type's sample names: its family and its labels, with the labels already
 * written as text. Shared by every check whose samples name the same one (all http checks have
 * `via="dns",phase="connect"`), so a check keeps only a reference and a number per sample, not
 * the run's sample objects: at 100,000 checks some 300 bytes a check less, and nothing of a run's
 * samples outlives the run (a run whose series are those of the run before only writes numbers).
 */
export interface SampleSeries {
  readonly name: SeriesName;
  /** The labels, in the sample's order; undefined when the sample has none. */
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly keys: readonly string[];
  /** formatLabelPairs(labels): the line's text after the check's own labels, unless a key clashes with one of them. */
  readonly pairs: string;
}

/** Series kept for sharing at most: label values may come from targets (DNS answers), so the table must not grow without end. */
const MAX_SHARED = 65_536;

/** The series samples name, shared between checks (up to MAX_SHARED of them). */
export class SampleSeriesTable {
  private readonly shared = new Map<string, SampleSeries>();

  of(sample: Sample): SampleSeries {
    const { name, labels } = sample;
    const key = JSON.stringify(labels === undefined ? [name] : [name, Object.entries(labels)]);
    const found = this.shared.get(key);
    if (found !== undefined) return found;
    const copy = labels === undefined ? undefined : { ...labels };
    const series: SampleSeries = { name, labels: copy, keys: copy === undefined ? [] : Object.keys(copy), pairs: copy === undefined ? '' : formatLabelPairs(copy) };
    if (this.shared.size < MAX_SHARED) this.shared.set(key, series);
    return series;
  }
}

/** Whether the sample names this series: the same family and the same labels in the same order. */
export function namesSeries(sample: Sample, series: SampleSeries): boolean {
  if (sample.name !== series.name) return false;
  const { labels } = sample;
  if (labels === undefined || series.labels === undefined) return labels === series.labels;
  let at = 0;
  // for-in, not Object.keys: no array per sample per run (labels are plain objects).
  for (const key in labels) {
    if (series.keys[at] !== key || series.labels[key] !== labels[key]) return false;
    at++;
  }
  return at === series.keys.length;
}
