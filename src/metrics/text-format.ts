/**
 * Pieces of the Prometheus text exposition format 0.0.4, written by hand because the per-check
 * families are rendered without prom-client (DESIGN section 3: 10,000 checks in under 100 ms).
 */

export type MetricKind = 'gauge' | 'counter';

const NEEDS_ESCAPE = /[\\"\n\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Label values escape backslash, double quote and line feed, as the format says. Other control
 * characters (CR, NUL, C1) and the Unicode line and paragraph separators are allowed by the
 * format but break line-based tools (grep, promtool's lint, log shippers); some label values come
 * from targets (a DNS answer, a certificate subject), so they become U+FFFD.
 */
export function escapeLabelValue(value: string): string {
  // The test is much cheaper than the replaces, and almost no value needs escaping.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(UNPRINTABLE, '\ufffd');
}

/** HELP text escapes only backslash and line feed (a double quote is literal there). */
export function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Numbers as Prometheus writes them; `${n}` would give "NaN" right but "Infinity" wrong. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return `${value}`;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** `name="value"` pairs joined by commas, without braces, so callers can prepend shared labels. */
export function formatLabelPairs(labels: Readonly<Record<string, string>>): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(labels)) pairs.push(`${name}="${escapeLabelValue(value)}"`);
  return pairs.join(',');
}

/**
 * One sample line (with its trailing newline); `pairs` is already formatted. Built with join, not
 * `+` or a template: those make a rope of string pieces (a ConsString per `+`), which cost memory
 * while kept and a walk of the rope when written; join makes one flat string.
 */
export function formatSample(name: string, pairs: string, value: number): string {
  return (pairs === '' ? [name, ' ', formatValue(value), '\n'] : [name, '{', pairs, '} ', formatValue(value), '\n']).join('');
}

/** The # HELP and # TYPE lines that open a family. */
export function formatHeader(name: string, help: string, kind: MetricKind): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${kind}\n`;
}

/** Text written a line at a time: `+=` builds a rope that the writer flattens once, with no array of pieces. */
export interface TextOut {
  text: string;
}

/**
 * The same line as formatSample(name, pairs === '' ? base : `${base},${pairs}`, value), appended
 * to `out`. `base` is never empty (every per-check series has check and type).
 */
export function writeSample(out: TextOut, name: string, base: string, pairs: string, value: number): void {
  out.text += pairs === '' ? `${name}{${base}} ${formatValue(value)}\n` : `${name}{${base},${pairs}} ${formatValue(value)}\n`;
}
