import type { ProbeSample } from '../checks/check-type.js';
import type { Run } from '../runner.js';
import { formatHeader, formatLabelPairs, formatSample } from './text-format.js';

/**
 * One run in blackbox_exporter's names, for GET /probe?check=NAME&format=prometheus, so a
 * Prometheus job written for blackbox's multi-target pattern (and its dashboards) works
 * unchanged. Like blackbox, no check or type labels: the scrape config's relabelling adds them.
 */
export function renderProbe(run: Run): string {
  const groups = new Map<string, { help: string; samples: ProbeSample[] }>();
  const add = (sample: ProbeSample) => {
    const group = groups.get(sample.name);
    if (group) group.samples.push(sample);
    else groups.set(sample.name, { help: sample.help, samples: [sample] });
  };
  // blackbox's own help texts, word for word.
  add({ name: 'probe_success', help: 'Displays whether or not the probe was a success', value: run.result.ok ? 1 : 0 });
  add({ name: 'probe_duration_seconds', help: 'Returns how long the probe took to complete in seconds', value: run.result.durationMs / 1000 });
  for (const sample of run.probeSamples()) {
    // The runner owns these two, as blackbox's handler does; a check's copy would be a duplicate.
    if (sample.name === 'probe_success' || sample.name === 'probe_duration_seconds') continue;
    add(sample);
  }
  let out = '';
  for (const [name, group] of groups) {
    out += formatHeader(name, group.help, 'gauge');
    for (const sample of group.samples) out += formatSample(name, sample.labels ? formatLabelPairs(sample.labels) : '', sample.value);
  }
  return out;
}
