import type { RunTiming } from '../state/state-store.js';
import { formatMs, html, type SafeHtml } from './html.js';

// Response time as inline SVG drawn on the server: no script, no framework, a few hundred bytes a
// check. The total duration is the solid line, the slowest phase (where the check times phases)
// the dashed one, failed runs red dots; the scale (its top) is written on the picture.

interface Size {
  width: number;
  height: number;
  /** Room on the left for the scale's labels. */
  left: number;
}

const SPARK: Size = { width: 120, height: 28, left: 0 };
const CHART: Size = { width: 640, height: 160, left: 52 };

/** The small picture beside the recent-runs strip. */
export function sparkline(timings: readonly RunTiming[]): SafeHtml {
  return picture(timings, SPARK, 'spark');
}

/** The check page's larger chart over every run kept, with a labelled scale and time axis. */
export function responseChart(timings: readonly RunTiming[]): SafeHtml {
  return picture(timings, CHART, 'chart');
}

function picture(timings: readonly RunTiming[], size: Size, kind: 'spark' | 'chart'): SafeHtml {
  if (timings.length === 0) return html`<span class="${kind} muted small">no runs yet</span>`;
  const top = niceTop(Math.max(...timings.map((t) => t.durationMs)));
  const { width, height, left } = size;
  const pad = 3;
  const x = (i: number) => round(left + pad + (timings.length === 1 ? (width - left - 2 * pad) / 2 : (i * (width - left - 2 * pad)) / (timings.length - 1)));
  const y = (ms: number) => round(pad + (height - 2 * pad) * (1 - Math.min(ms, top) / top));
  const total = timings.map((t, i) => `${x(i)},${y(t.durationMs)}`).join(' ');
  const phased = timings.map((t, i) => (t.slowest ? `${x(i)},${y(t.slowest.ms)}` : undefined)).filter((p) => p !== undefined);
  const slowest = slowestPhase(timings);
  const latest = timings[timings.length - 1];
  const describe = `response time, last ${timings.length} ${timings.length === 1 ? 'run' : 'runs'}: latest ${formatMs(latest?.durationMs ?? 0)}, scale 0 to ${formatMs(top)}${slowest ? `; slowest phase ${slowest.phase}, up to ${formatMs(slowest.ms)}` : ''}`;
  // Failed runs as dots: zero-length segments of one path with round caps, ~12 bytes a dot.
  const dots = timings.map((t, i) => (t.ok ? '' : `M${x(i)},${y(t.durationMs)}h0`)).join('');
  const failed = dots === '' ? html`` : html`<path class="fail" d="${dots}" stroke-width="${kind === 'spark' ? 3.5 : 6}"/>`;
  const axis =
    kind === 'chart'
      ? html`<g class="axis"><line x1="${left}" y1="${pad}" x2="${left}" y2="${height - pad}"/><line x1="${left}" y1="${height - pad}" x2="${width}" y2="${height - pad}"/>
<text x="${left - 4}" y="${pad + 8}" text-anchor="end">${formatMs(top)}</text><text x="${left - 4}" y="${round(height / 2 + 4)}" text-anchor="end">${formatMs(top / 2)}</text><text x="${left - 4}" y="${height - pad}" text-anchor="end">0</text></g>`
      : html``;
  const scale = kind === 'spark' ? html`<span class="spark-scale small muted" data-scale-ms="${top}">max ${formatMs(top)}</span>` : html``;
  return html`<span class="${kind}-wrap"><svg class="${kind}" role="img" aria-label="${describe}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-scale-ms="${top}" data-runs="${timings.length}">${axis}${phased.length > 0 && html`<polyline class="phase" points="${phased.join(' ')}"/>`}<polyline class="total" points="${total}"/>${failed}</svg>${scale}${kind === 'chart' && legend(timings, slowest)}</span>`;
}

function legend(timings: readonly RunTiming[], slowest: { phase: string; ms: number } | undefined): SafeHtml {
  const first = timings[0];
  const last = timings[timings.length - 1];
  const when = (at: number | undefined) => (at === undefined ? '' : new Date(at).toISOString().replace('.000Z', 'Z'));
  return html`<span class="legend small muted"><span class="key total"></span> total${slowest && html` <span class="key phase"></span> slowest phase (${slowest.phase} at most ${formatMs(slowest.ms)})`} <span class="key fail"></span> failed · ${timings.length} runs from <time datetime="${when(first?.at)}">${when(first?.at)}</time> to <time datetime="${when(last?.at)}">${when(last?.at)}</time></span>`;
}

/** The phase that was slowest most often, with its highest time. */
function slowestPhase(timings: readonly RunTiming[]): { phase: string; ms: number } | undefined {
  const counts = new Map<string, { n: number; ms: number }>();
  for (const t of timings) {
    if (!t.slowest) continue;
    const seen = counts.get(t.slowest.phase) ?? { n: 0, ms: 0 };
    counts.set(t.slowest.phase, { n: seen.n + 1, ms: Math.max(seen.ms, t.slowest.ms) });
  }
  let best: { phase: string; ms: number; n: number } | undefined;
  for (const [phase, { n, ms }] of counts) if (!best || n > best.n) best = { phase, ms, n };
  return best && { phase: best.phase, ms: best.ms };
}

/** A round top for the scale (1, 2 or 5 x 10^n ms), so the label reads well. */
export function niceTop(ms: number): number {
  if (!(ms > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(ms));
  const step = [1, 2, 5, 10].find((f) => f * power >= ms) ?? 10;
  return step * power;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
