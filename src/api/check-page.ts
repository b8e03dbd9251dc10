import { formatDuration } from '../config/duration.js';
import { REDACTED } from '../results/secret-forms.js';
import type { RunSummary } from '../state/state-store.js';
import type { CheckEntry } from './served-daemon.js';
import { blockedBy, diagnosisTags, labelChips, resultStrip, runPill, statusPill, type CheckSummary } from './check-fragments.js';
import { HIDDEN, specView } from './check-view.js';
import { formatMs, html, prettyJson, timeElement, type SafeHtml } from './html.js';
import type { PageParts } from './page-shell.js';
import { responseChart } from './sparkline.js';
import type { UptimeAnswer } from './uptime.js';
import { checkPictures, uptimeNote } from './uptime-view.js';

// The spec holds durations as milliseconds; these keys read better the way check files write them.
const DURATION_KEY = /^(interval|timeout)$|Timeout$/;

/** GET /checks/:name: what the check is, where it is defined, when it runs, what it saw. */
export function checkPage(view: CheckSummary, entry: CheckEntry, now: number, answer?: UptimeAnswer): PageParts {
  const { name, last } = view;
  const path = encodeURIComponent(name);
  const schedule = entry.check.spec.schedule;
  const body = html`<p class="crumbs"><a href="/">← All checks</a></p>
<section class="summary hero ${view.status}" aria-label="state">
<div>
<h1>${name} ${statusPill(view.status)} <span class="tag">${view.type}</span></h1>
${view.description !== undefined && html`<div class="desc">${view.description}</div>`}${labelChips(view.labels)}
<div class="message">${last ? html`${diagnosisTags(last)}${last.message}${blockedBy(last)}` : html`<span class="muted">Not run yet.</span>`}</div>
</div>
</section>
<div class="grid">
<section class="panel"><h2>Schedule and source</h2>
<dl class="facts">
<dt>State</dt><dd>${statusPill(view.status)}${view.since !== undefined && html` since ${timeElement(view.since, now)}`}${view.streak > 1 && html` · ${view.streak} runs in a row`}</dd>
<dt>Defined in</dt><dd><code>${view.source}</code></dd>
${view.dependsOn.length > 0 && html`<dt>Depends on</dt><dd>${view.dependsOn.map((dep, i) => html`${i > 0 && ', '}<a href="/checks/${encodeURIComponent(dep)}">${dep}</a>`)} <span class="muted small">(not run while one of them fails)</span></dd>`}
<dt>Runs</dt><dd>${schedule === undefined ? `every ${view.every}` : html`on cron schedule <code>${schedule}</code>`}, timeout ${view.timeout}</dd>
<dt>Next run</dt><dd>${view.nextRunAt === undefined ? html`<span class="muted">not scheduled (scheduler not running)</span>` : timeElement(view.nextRunAt, now)}</dd>
<dt>Last run</dt><dd>${last ? html`${timeElement(last.startedAt, now)}, took ${formatMs(last.durationMs)}` : html`<span class="muted">never</span>`}</dd>
<dt>More</dt><dd><a href="/api/v1/checks/${path}">JSON</a> · <a href="/probe?check=${path}&amp;debug=true" title="Runs the check now and shows each step (needs the API token when one is configured)">Debug run</a></dd>
</dl>
</section>
<section class="panel"><h2>Definition</h2>
${definition(specView(entry))}
</section>
</div>
<section class="panel pictures-panel"><h2>Response time and uptime</h2>
${uptimeNote(answer, [entry], now)}${resultStrip(entry.history.list())}${checkPictures(entry, answer, now)}
<figure class="chart-figure">${responseChart(entry.history.timings())}<figcaption class="small muted">Response time of every run kept in memory</figcaption></figure>
</section>
<section class="panel"><h2>Recent results</h2>
${resultsTable(entry.history.list(), now)}
</section>
<section class="panel"><h2>Latest observations</h2>
${last ? html`<pre class="observations">${prettyJson(last.observations)}</pre>` : html`<p class="muted">No results yet.</p>`}
</section>`;
  return { title: `${name}: ${view.status} - driftwatch`, tone: view.status === 'converging' || view.status === 'maintenance' ? 'blocked' : view.status, body, now, autoRefresh: false, self: `/checks/${path}` };
}

export function notFoundPage(name: string, now: number): PageParts {
  const body = html`<p class="crumbs"><a href="/">← All checks</a></p>
<section class="summary" aria-label="not found"><div><h1>No check named “${name}”</h1>
<div class="muted">It may have been renamed or removed by the last reload, or it runs on another shard.</div></div></section>`;
  return { title: 'not found - driftwatch', tone: 'pending', body, now, autoRefresh: false, self: '/' };
}

// Shown in the header and the facts panel already; listed last so the type's own fields lead.
const BASE_KEYS = new Set(['description', 'interval', 'schedule', 'timeout', 'labels', 'allowTargets', 'dependsOn']);

/** The spec as name/value pairs, nested objects as nested lists. Secrets arrive as [secret]. */
function definition(spec: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(spec).filter(([key, value]) => key !== 'name' && key !== 'type' && value !== undefined);
  return pairs([...entries.filter(([key]) => !BASE_KEYS.has(key)), ...entries.filter(([key]) => BASE_KEYS.has(key))]);
}

function pairs(entries: readonly [string, unknown][]): SafeHtml {
  return html`<dl class="facts">${entries.map(([key, value]) => html`<dt>${key}</dt><dd>${specValue(key, value)}</dd>`)}</dl>`;
}

function specValue(key: string, value: unknown): SafeHtml {
  if (value === REDACTED) return html`<span class="secret" title="secret reference: the value is never shown">${REDACTED}</span>`;
  if (value === HIDDEN) return html`<span class="secret" title="request header value: never shown">${HIDDEN}</span>`;
  if (typeof value === 'number' && DURATION_KEY.test(key)) return html`${formatDuration(value)}`;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return html`<code>${String(value)}</code>`;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return html`<code>${value.map(String).join(', ')}</code>`;
  }
  if (isRecord(value)) return Object.keys(value).length === 0 ? html`<span class="muted">none</span>` : pairs(Object.entries(value));
  return html`<pre>${prettyJson(value)}</pre>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resultsTable(recent: readonly RunSummary[], now: number): SafeHtml {
  if (recent.length === 0) return html`<p class="muted">No results yet.</p>`;
  const rows = recent.map(
    (r) => html`<tr>
<td class="when" data-label="Time">${timeElement(r.startedAt, now)} <span class="muted small mono">${r.startedAt}</span></td>
<td data-label="Result">${runPill(r)}</td>
<td data-label="Reason">${r.reason ?? html`<span class="muted">-</span>`}</td>
<td data-label="Message">${diagnosisTags({ ...r, reason: undefined })}${r.message}</td>
<td data-label="Duration">${formatMs(r.durationMs)}</td>
</tr>`,
  );
  return html`<table class="results stack">
<thead><tr><th scope="col">Time</th><th scope="col">Result</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Duration</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}
