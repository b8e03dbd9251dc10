import type { ProbeSample } from '../results/run.js';
import type { Run } from '../results/run.js';
import { formatHeader, formatLabelPairs, formatValue } from './text-format.js';

/**
 * One run in blackbox_exporter's names and help texts, for GET /probe?module=NAME (or
 * check=NAME with the text format), so a Prometheus job written for blackbox's multi-target
 * pattern (and its dashboards) works unchanged. Like blackbox, no check or type labels (the
 * scrape config's relabelling adds them) and the families in name order. docs/blackbox.md lists
 * every series and where it comes from. UTF-8 bytes, ready to send.
 */
export function renderProbe(run: Run, timeoutMs?: number): Buffer {
  // blackbox's handler owns these two (prober/handler.go), as the runner does here.
  const samples = SCRATCH;
  let count = 0;
  SUCCESS.value = run.result.ok ? 1 : 0;
  DURATION.value = run.result.durationMs / 1000;
  samples[count++] = SUCCESS;
  samples[count++] = DURATION;
  // Not a blackbox 0.23 series: the limit the run had, after the scrape's timeout header.
  if (timeoutMs !== undefined) {
    TIMEOUT.value = timeoutMs / 1000;
    samples[count++] = TIMEOUT;
  }
  for (const sample of run.probeSamples()) {
    // A check's copy of a series the runner wrote above would be a duplicate (the runner writes
    // probe_timeout_seconds only when it knows the limit).
    if (RUNNER_SERIES.has(sample.name) && (timeoutMs !== undefined || sample.name !== 'probe_timeout_seconds')) continue;
    samples[count++] = sample;
  }
  // Families in name order, a family's samples in the order made, its help its first sample's.
  sortByName(samples, count);
  let family: Family | undefined;
  for (let i = 0; i < count; i++) {
    const sample = samples[i];
    samples[i] = undefined;
    if (sample === undefined) continue;
    const { name } = sample;
    if (family === undefined || family.name !== name) {
      family = familyOf(name, sample.help);
      OUT.put(family.header);
    }
    OUT.put(sample.labels ? labelledPrefix(name, sample.labels) : family.bare);
    OUT.put(formatValue(sample.value));
    OUT.put('\n');
  }
  return OUT.take();
}

// The runner's own samples and the work array are the module's: rendering is synchronous, and a
// probe made three objects and grew an array of some 20 samples for them each time (issue 29).
const SUCCESS: ProbeSample = { name: 'probe_success', help: 'Displays whether or not the probe was a success', value: 0 };
const DURATION: ProbeSample = { name: 'probe_duration_seconds', help: 'Returns how long the probe took to complete in seconds', value: 0 };
const TIMEOUT: ProbeSample = { name: 'probe_timeout_seconds', help: 'Returns the time limit the probe ran under in seconds', value: 0 };
const SCRATCH: (ProbeSample | undefined)[] = [];
const RUNNER_SERIES = new Set([SUCCESS.name, DURATION.name, TIMEOUT.name]);

/**
 * A stable insertion sort by name of the first `count` samples: a probe has a few dozen at most,
 * mostly in order already, and Array#sort allocated a work copy on every probe.
 */
function sortByName(samples: (ProbeSample | undefined)[], count: number): void {
  for (let i = 1; i < count; i++) {
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

/**
 * A family's # HELP and # TYPE lines and its unlabelled sample's prefix: the same few names and
 * help texts on every probe, so written once each (escaping the help was a visible share of
 * rendering a probe). Looked up at a family's first sample: the others keep its help. Bounded: a
 * check type's names are fixed, but cleared when full all the same.
 */
const MAX_FAMILIES = 512;
interface Family {
  name: string;
  help: string;
  header: string;
  bare: string;
}
const families = new Map<string, Family>();
function familyOf(name: string, help: string): Family {
  const known = families.get(name);
  if (known !== undefined && known.help === help) return known;
  if (families.size >= MAX_FAMILIES) families.clear();
  const made = { name, help, header: formatHeader(name, help, 'gauge'), bare: `${name} ` };
  families.set(name, made);
  return made;
}

/**
 * `name{pairs} ` for a labelled sample, kept with its labels object: samples that come back from a
 * run thread with the shape of the last ones share the shape's labels (probe-shapes.ts), so the
 * pairs of a repeated probe are formatted once. A labels object is never changed once made.
 */
const prefixes = new WeakMap<Readonly<Record<string, string>>, { name: string; prefix: string }>();
function labelledPrefix(name: string, labels: Readonly<Record<string, string>>): string {
  const known = prefixes.get(labels);
  if (known !== undefined && known.name === name) return known.prefix;
  const pairs = formatLabelPairs(labels);
  const prefix = pairs === '' ? `${name} ` : `${name}{${pairs}} `;
  prefixes.set(labels, { name, prefix });
  return prefix;
}

/**
 * Text written as UTF-8 straight into one reused buffer and copied out once: the pieces joined
 * into a string, and that string encoded for the socket, were some 7 KB of a probe's allocation.
 */
class ByteText {
  private bytes = Buffer.allocUnsafe(KEPT_BYTES);
  private at = 0;

  put(text: string): void {
    // At most 3 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    if (this.at + 3 * text.length > this.bytes.length) this.grow(3 * text.length);
    this.at += this.bytes.write(text, this.at);
  }

  /** The text so far as a buffer of its own (from Node's pool when small), and empty again. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.bytes.copy(out, 0, 0, this.at);
    this.at = 0;
    if (this.bytes.length > KEPT_BYTES) this.bytes = Buffer.allocUnsafe(KEPT_BYTES);
    return out;
  }

  private grow(more: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.at + more));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }
}

const KEPT_BYTES = 16 * 1024;
const OUT = new ByteText();
