import type { CheckEntry } from './served-daemon.js';
import { html, timeElement, type SafeHtml } from './html.js';
import { sparkline } from './sparkline.js';
import { formatUptime, UPTIME_WINDOWS, uptimesFor, type UptimeAnswer, type Uptimes, type UptimeSource } from './uptime.js';

const WINDOW_TEXT = { '1h': '1 h', '24h': '24 h', '7d': '7 d' } as const;

/** Uptime over 1 h, 24 h and 7 d, each saying where it comes from (data-from) and, from memory, since when. */
export function uptimeList(uptimes: Uptimes): SafeHtml {
  const items = UPTIME_WINDOWS.map(({ key }) => {
    const figure = uptimes[key];
    const since = figure.since === undefined ? undefined : new Date(figure.since).toISOString();
    // Where the figure comes from is in the note over the table, not repeated in every cell.
    return html`<div data-window="${key}" data-from="${figure.from}"${figure.ratio !== undefined && html` data-ratio="${figure.ratio}"`}${since !== undefined && html` data-since="${since}"`}><dt>${WINDOW_TEXT[key]}</dt><dd>${formatUptime(figure.ratio)}${since !== undefined && html`<span aria-hidden="true">*</span>`}</dd></div>`;
  });
  return html`<dl class="uptime" aria-label="uptime">${items}</dl>`;
}

/** The sparkline and the uptime figures of one check, beside its recent-runs strip. */
export function checkPictures(entry: CheckEntry, answer: UptimeAnswer | undefined, now: number): SafeHtml {
  const timings = entry.history.timings();
  return html`<div class="pictures">${sparkline(timings)}${uptimeList(uptimesFor(entry.check.spec.name, timings, answer, now))}</div>`;
}

/** Asks the source (Prometheus) for these checks, or nothing when the daemon has none. */
export async function readUptime(source: UptimeSource | undefined, names: readonly string[], now: number): Promise<UptimeAnswer | undefined> {
  return source === undefined ? undefined : source.read(names, now);
}

/** One line over the figures: where uptime comes from, and since when when it is memory. */
export function uptimeNote(answer: UptimeAnswer | undefined, entries: readonly CheckEntry[], now: number): SafeHtml {
  if (answer?.ok) {
    return html`<p class="uptime-note muted small" data-from="prometheus" data-at="${new Date(answer.at).toISOString()}">Uptime from Prometheus (avg_over_time of driftwatch_check_success), as of ${timeElement(new Date(answer.at).toISOString(), now)}.</p>`;
  }
  let oldest: number | undefined;
  for (const entry of entries) {
    const first = entry.history.timings()[0];
    if (first && (oldest === undefined || first.at < oldest)) oldest = first.at;
  }
  const since = oldest === undefined ? html`no runs yet` : html`since ${timeElement(new Date(oldest).toISOString(), now)}`;
  const why = answer === undefined ? html` Start the daemon with --prometheus-url for weeks of uptime.` : html` <strong class="problem">${answer.problem}</strong>: showing the in-memory figures instead.`;
  return html`<p class="uptime-note muted small" data-from="memory"${oldest !== undefined && html` data-since="${new Date(oldest).toISOString()}"`}>Uptime from the runs this daemon holds in memory (the last few per check), ${since}; * marks a figure over less than its window.${why}</p>`;
}
