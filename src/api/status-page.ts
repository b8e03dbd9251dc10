import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CheckEntry, ReloadOutcome, ServedDaemon } from './served-daemon.js';
import type { CheckIndex } from './check-index.js';
import { PAGE_SIZE } from './check-list.js';
import { checkPage, notFoundPage } from './check-page.js';
import { blockedBy, diagnosisTags, labelChips, resultStrip, statusPill, STATUS_ORDER, type CheckSummary } from './check-fragments.js';
import { CHECK_STATUSES, checkStatus, summarizeCheck, type CheckStatus } from './check-view.js';
import { formatMs, html, timeElement, type SafeHtml } from './html.js';
import { sendPage, type PageParts } from './page-shell.js';
import type { UptimeAnswer, UptimeSource } from './uptime.js';
import { checkPictures, readUptime, uptimeNote } from './uptime-view.js';

interface Row {
  view: CheckSummary;
  entry: CheckEntry;
}

/** Where a page of rows sits among all of them. */
interface Paging {
  page: number;
  pages: number;
  first: number;
  total: number;
}

const nameParams = z.object({ name: z.string() });
// Other parameters are ignored, as a page's link may carry a tracker's or a proxy's.
const overviewQuery = z.object({ page: z.string().regex(/^[1-9]\d{0,8}$/).transform(Number).optional() });
/** The statuses in the page's order: failing first (the root causes), then blocked, pending, ok. */
const ROW_ORDER = [...CHECK_STATUSES].sort((a, b) => STATUS_ORDER[a] - STATUS_ORDER[b]);

/** GET / (every check at a glance, a page of rows at a time) and GET /checks/:name (one check in full); HTML, no JS needed. */
export function registerStatusPage(app: FastifyInstance, daemon: ServedDaemon, index: CheckIndex, uptime?: UptimeSource): void {
  app.get('/', async (request, reply) => {
    const query = overviewQuery.safeParse(request.query);
    if (!query.success) return sendPage(reply, 400, badPageNumber(Date.now()));
    return sendPage(reply, 200, await overviewPage(daemon, index, query.data.page ?? 1, Date.now(), uptime));
  });
  app.get('/checks/:name', async (request, reply) => {
    const { name } = nameParams.parse(request.params);
    const entry = daemon.state.get(name);
    const now = Date.now();
    if (!entry) return sendPage(reply, 404, notFoundPage(name, now));
    return sendPage(reply, 200, checkPage(summarizeCheck(entry, daemon.scheduler), entry, now, await readUptime(uptime, [name], now)));
  });
}

/**
 * The counts are of every check; the rows are one page of PAGE_SIZE, so 100,000 checks make a
 * page of ~0.6 MB, not ~130 MB. A page past the last (checks removed since the link was made)
 * shows the last.
 */
async function overviewPage(daemon: ServedDaemon, index: CheckIndex, requested: number, now: number, uptime: UptimeSource | undefined): Promise<PageParts> {
  const byName = index.byName();
  const counts: Record<CheckStatus, number> = { failing: 0, converging: 0, maintenance: 0, blocked: 0, ok: 0, pending: 0 };
  // Each check's place in ROW_ORDER, read once: the entries and their results are scattered over
  // the heap, and at 100,000 checks one pass over them is most of the page's cost.
  const ranks = new Uint8Array(byName.length);
  byName.forEach((entry, i) => {
    const status = checkStatus(entry);
    counts[status] += 1;
    ranks[i] = ROW_ORDER.indexOf(status);
  });
  const pages = Math.max(1, Math.ceil(byName.length / PAGE_SIZE));
  const page = Math.min(requested, pages);
  const paging: Paging = { page, pages, first: (page - 1) * PAGE_SIZE, total: byName.length };
  const rows: Row[] = rowsAt(byName, ranks, counts, paging.first).map((entry) => ({ entry, view: summarizeCheck(entry, daemon.scheduler) }));
  const tone: CheckStatus = counts.failing > 0 ? 'failing' : counts.blocked > 0 ? 'blocked' : counts.ok > 0 ? 'ok' : 'pending';
  const nav = pageLinks(paging, rows.length);
  // Asked after the rows are chosen: one Prometheus query for this page's checks, within its timeout.
  const answer = await readUptime(uptime, rows.map((row) => row.view.name), now);
  const note = rows.length > 0 ? uptimeNote(answer, rows.map((row) => row.entry), now) : html``;
  const body = html`${summary(counts, byName.length, tone, daemon.lastReload, now)}${reloadBanner(daemon.lastReload, now)}${nav}${note}${checksTable(rows, now, answer)}${nav}`;
  return { title: `${counts.failing} failing - driftwatch`, tone, body, now, autoRefresh: true, self: pageHref(page) };
}

/**
 * PAGE_SIZE rows from `first` in the page's order (failing first, by name within a status): the
 * name-ordered index read a status at a time, whole statuses skipped by their counts. No sort
 * and no copy of 100,000 entries per request (grouping them all into arrays took ~45 ms).
 */
function rowsAt(byName: readonly CheckEntry[], ranks: Uint8Array, counts: Record<CheckStatus, number>, first: number): CheckEntry[] {
  const rows: CheckEntry[] = [];
  let skip = first;
  ROW_ORDER.forEach((status, rank) => {
    if (rows.length === PAGE_SIZE) return;
    if (skip >= counts[status]) {
      skip -= counts[status];
      return;
    }
    for (let i = 0; i < ranks.length && rows.length < PAGE_SIZE; i++) {
      if (ranks[i] !== rank) continue;
      const entry = byName[i];
      if (skip > 0) skip -= 1;
      else if (entry) rows.push(entry);
    }
  });
  return rows;
}

function pageHref(page: number): string {
  return page === 1 ? '/' : `/?page=${page}`;
}

/** Previous and next, and which rows these are; nothing when every check fits on one page. */
function pageLinks({ page, pages, first, total }: Paging, shown: number): SafeHtml {
  if (pages === 1) return html``;
  const count = (n: number) => n.toLocaleString('en-US');
  const previous = page > 1 ? html`<a rel="prev" href="${pageHref(page - 1)}">← Previous ${PAGE_SIZE}</a>` : html`<span class="muted">← Previous</span>`;
  const next = page < pages ? html`<a rel="next" href="${pageHref(page + 1)}">Next ${Math.min(PAGE_SIZE, total - first - shown)} →</a>` : html`<span class="muted">Next →</span>`;
  return html`<nav class="pages" aria-label="pages of checks">${previous}<span>checks ${count(first + 1)}-${count(first + shown)} of ${count(total)}, failing first (page ${page} of ${pages})</span>${next}</nav>
`;
}

function badPageNumber(now: number): PageParts {
  const body = html`<p class="crumbs"><a href="/">← All checks</a></p>
<section class="summary" aria-label="bad page number"><div><h1>No such page</h1>
<div class="muted">page= takes a page number from 1, like <a href="/?page=2">/?page=2</a>.</div></div></section>`;
  return { title: 'bad page number - driftwatch', tone: 'pending', body, now, autoRefresh: false, self: '/' };
}

function summary(counts: Record<CheckStatus, number>, total: number, tone: CheckStatus, reload: ReloadOutcome | undefined, now: number): SafeHtml {
  const plural = (n: number) => (n === 1 ? 'check' : 'checks');
  const headline =
    total === 0
      ? 'No checks loaded'
      : counts.failing > 0
        ? `${counts.failing} of ${total} ${plural(total)} failing${counts.blocked > 0 ? `, ${counts.blocked} blocked` : ''}`
        : counts.blocked > 0
          ? `${counts.blocked} of ${total} ${plural(total)} blocked, waiting for their next run`
          : counts.pending === total
            ? `${total} ${plural(total)} waiting for their first run`
            : counts.pending > 0
              ? `No failures: ${counts.ok} ok, ${counts.pending} waiting for a first run`
              : counts.ok < total ? `No failures: ${counts.ok} ok, ${total - counts.ok} in a deploy or maintenance window` : `All ${total} ${plural(total)} pass`;
  const loaded = reload?.ok === true ? html`<div class="muted small">${reload.checks} ${plural(reload.checks)} loaded from the check files ${timeElement(reload.at, now)}</div>` : html``;
  return html`<section class="summary ${tone}" aria-label="summary">
<div><h1>${headline}</h1>${loaded}</div>
<ul class="counts">
<li class="failing${counts.failing > 0 ? ' some' : ''}">${counts.failing} failing</li>
${counts.blocked > 0 && html`<li class="blocked some">${counts.blocked} blocked</li>`}${counts.converging > 0 && html`<li class="blocked some">${counts.converging} converging</li>`}${counts.maintenance > 0 && html`<li class="blocked some">${counts.maintenance} in maintenance</li>`}
<li class="ok${counts.ok > 0 ? ' some' : ''}">${counts.ok} ok</li>
<li class="pending">${counts.pending} pending</li>
</ul>
</section>`;
}

/** A failed reload changes nothing that runs, which is exactly why it must be impossible to miss. */
function reloadBanner(reload: ReloadOutcome | undefined, now: number): SafeHtml {
  if (!reload || reload.ok) return html``;
  return html`<section class="banner" role="alert">
<strong>Reload failed ${timeElement(reload.at, now)}: the check files are invalid, so the previous ${reload.checks} checks keep running unchanged.</strong>
Fix these problems and reload again (SIGHUP or POST /-/reload):
<ul>${reload.problems.map((problem) => html`<li><code>${problem}</code></li>`)}</ul>
</section>`;
}

function checksTable(rows: readonly Row[], now: number, answer: UptimeAnswer | undefined): SafeHtml {
  if (rows.length === 0) return html`<p class="panel empty muted">No checks are loaded.</p>`;
  return html`<table class="checks">
<thead><tr><th scope="col">State</th><th scope="col">Check</th><th scope="col">Diagnosis</th><th scope="col">Last run</th><th scope="col">Recent runs</th><th scope="col">Links</th></tr></thead>
<tbody>
${rows.map((row) => checkRow(row, now, answer))}
</tbody>
</table>`;
}

function checkRow({ view, entry }: Row, now: number, answer: UptimeAnswer | undefined): SafeHtml {
  const { name, status, last } = view;
  const path = encodeURIComponent(name);
  return html`<tr class="row ${status}" id="check-${name}" data-check="${name}" data-status="${status}">
<td class="c-state">${statusPill(status)}${since(view, now)}</td>
<td class="c-check"><a class="name" href="/checks/${path}">${name}</a> <span class="tag">${view.type}</span>${labelChips(view.labels)}${view.description !== undefined && html`<div class="desc">${view.description}</div>`}</td>
<td class="c-diag">${diagnosis(view, now)}</td>
<td class="c-last">${last ? html`${timeElement(last.startedAt, now)}<div class="muted small">took ${formatMs(last.durationMs)}</div>` : html`<span class="muted">not yet</span>`}</td>
<td class="c-recent">${resultStrip(entry.history.list())}${checkPictures(entry, answer, now)}</td>
<td class="c-links"><a href="/api/v1/checks/${path}">JSON</a><a href="/probe?check=${path}&amp;debug=true" title="Runs the check now and shows each step (needs the API token when one is configured)">Debug run</a></td>
</tr>
`;
}

function since(view: CheckSummary, now: number): SafeHtml {
  if (view.status === 'pending' || view.since === undefined) return html``;
  const runs = view.streak > 1 ? html`<div class="muted small">${view.streak} runs in a row</div>` : html``;
  return html`<div class="muted small">since ${timeElement(view.since, now)}</div>${runs}`;
}

function diagnosis(view: CheckSummary, now: number): SafeHtml {
  const { last } = view;
  if (!last) {
    const next = view.nextRunAt === undefined ? html`` : html`; next run ${timeElement(view.nextRunAt, now)}`;
    return html`<span class="muted">Not run yet${next}</span>`;
  }
  return html`${diagnosisTags(last)}<span class="message${last.ok ? ' muted' : ''}">${last.message}</span>${blockedBy(last)}`;
}
