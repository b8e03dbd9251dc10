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
  const groups = new Map<string, { help: string; samples: ProbeSample[] }>();
  const add = (sample: ProbeSample) => {
    const group = groups.get(sample.name);
    if (group) group.samples.push(sample);
    else groups.set(sample.name, { help: sample.help, samples: [sample] });
  };
  // blackbox's handler owns these two (prober/handler.go), as the runner does here.
  add({ name: 'probe_success', help: 'Displays whether or not the probe was a success', value: run.result.ok ? 1 : 0 });
  add({ name: 'probe_duration_seconds', help: 'Returns how long the probe took to complete in seconds', value: run.result.durationMs / 1000 });
  // Not a blackbox 0.23 series: the limit the run had, after the scrape's timeout header.
  if (timeoutMs !== undefined) add({ name: 'probe_timeout_seconds', help: 'Returns the time limit the probe ran under in seconds', value: timeoutMs / 1000 });
  for (const sample of run.probeSamples()) {
    // A check's copy of the runner's series would be a duplicate.
    if (groups.has(sample.name) && RUNNER_SERIES.has(sample.name)) continue;
    add(sample);
  }
  // The pieces joined once at the end: one flat string, where `+=` per line made a rope of some
  // 80 pieces and formatSample an array per line (a probe's largest allocation, issue 29).
  const parts: string[] = [];
  for (const name of [...groups.keys()].sort()) {
    const group = groups.get(name);
    if (!group) continue;
    parts.push(probeHeader(name, group.help));
    for (const sample of group.samples) {
      const pairs = sample.labels ? formatLabelPairs(sample.labels) : '';
      if (pairs === '') parts.push(name, ' ', formatValue(sample.value), '\n');
      else parts.push(name, '{', pairs, '} ', formatValue(sample.value), '\n');
    }
  }
  return parts.join('');
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
