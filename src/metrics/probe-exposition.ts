import type { ProbeSample } from '../results/run.js';
import type { Run } from '../results/run.js';
import { formatHeader, formatLabelPairs, formatValue } from './text-format.js';

/**
 * One run in blackbox_exporter's names and help texts, for GET /probe?module=NAME (or
 * check=NAME with the text format), so a Prometheus job written for blackbox's multi-target
 * pattern (and its dashboards) works unchanged. Like blackbox, no check or type labels (the
 * scrape config's relabelling adds them) and the families in name order. docs/blackbox.md lists
 * every series and where it comes from.
 */
export function renderProbe(run: Run, timeoutMs?: number): string {
  // blackbox's handler owns these two (prober/handler.go), as the runner does here.
  const samples: ProbeSample[] = [
    { name: 'probe_success', help: 'Displays whether or not the probe was a success', value: run.result.ok ? 1 : 0 },
    { name: 'probe_duration_seconds', help: 'Returns how long the probe took to complete in seconds', value: run.result.durationMs / 1000 },
  ];
  // Not a blackbox 0.23 series: the limit the run had, after the scrape's timeout header.
  if (timeoutMs !== undefined) samples.push({ name: 'probe_timeout_seconds', help: 'Returns the time limit the probe ran under in seconds', value: timeoutMs / 1000 });
  for (const sample of run.probeSamples()) {
    // A check's copy of a series the runner wrote above would be a duplicate (the runner writes
    // probe_timeout_seconds only when it knows the limit).
    if (RUNNER_SERIES.has(sample.name) && (timeoutMs !== undefined || sample.name !== 'probe_timeout_seconds')) continue;
    samples.push(sample);
  }
  // Families in name order, a family's samples in the order made, its help its first sample's.
  // One array sorted in place, not a Map of groups (issue 29: allocation).
  sortByName(samples);
  // The pieces joined once at the end: one flat string, where `+=` per line made a rope of some
  // 80 pieces and formatSample an array per line. The array is the module's, emptied after each
  // join: growing a new one to some 150 pieces was a tenth of a probe's allocation.
  const parts = PARTS;
  let family: string | undefined;
  for (const sample of samples) {
    const { name } = sample;
    if (name !== family) {
      family = name;
      parts.push(probeHeader(name, sample.help));
    }
    const pairs = sample.labels ? formatLabelPairs(sample.labels) : '';
    if (pairs === '') parts.push(name, ' ', formatValue(sample.value), '\n');
    else parts.push(name, '{', pairs, '} ', formatValue(sample.value), '\n');
  }
  const text = parts.join('');
  parts.length = 0;
  return text;
}

const PARTS: string[] = [];

/**
 * A stable insertion sort by name: a probe has a few dozen samples at most, mostly in order
 * already, and Array#sort allocated a work copy of the array on every probe.
 */
function sortByName(samples: ProbeSample[]): void {
  for (let i = 1; i < samples.length; i++) {
    const sample = samples[i];
    if (sample === undefined) continue;
    let j = i - 1;
    for (; j >= 0; j--) {
      const before = samples[j];
      if (before === undefined || before.name <= sample.name) break;
      samples[j + 1] = before;
    }
    samples[j + 1] = sample;
  }
}

const RUNNER_SERIES = new Set(['probe_success', 'probe_duration_seconds', 'probe_timeout_seconds']);

/**
 * The # HELP and # TYPE lines of a probe family: the same few names and help texts on every
 * probe, so written once each (escaping the help was a visible share of rendering a probe).
 * Bounded: a check type's names are fixed, but cleared when full all the same.
 */
const MAX_HEADERS = 512;
const headers = new Map<string, { help: string; text: string }>();
function probeHeader(name: string, help: string): string {
  const known = headers.get(name);
  if (known !== undefined && known.help === help) return known.text;
  if (headers.size >= MAX_HEADERS) headers.clear();
  const text = formatHeader(name, help, 'gauge');
  headers.set(name, { help, text });
  return text;
}
