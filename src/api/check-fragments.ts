import type { Result } from '../results/result.js';
import type { RunSummary } from '../state/state-store.js';
import type { CheckStatus, summarizeCheck } from './check-view.js';
import { formatMs, html, type SafeHtml } from './html.js';

// Pieces of markup the overview and the detail page share, so a check reads the same on both.

export type CheckSummary = ReturnType<typeof summarizeCheck>;

const STATUS_TEXT: Record<CheckStatus, { symbol: string; label: string }> = {
  failing: { symbol: '✕', label: 'failing' },
  converging: { symbol: '↻', label: 'converging' },
  maintenance: { symbol: '⚒', label: 'maintenance' },
  blocked: { symbol: '⊘', label: 'blocked' },
  ok: { symbol: '✓', label: 'ok' },
  pending: { symbol: '○', label: 'pending' },
};

/** The state as colour and words: colour alone fails people who cannot tell red from green. */
export function statusPill(status: CheckStatus): SafeHtml {
  const { symbol, label } = STATUS_TEXT[status];
  return html`<span class="pill ${status}"><span aria-hidden="true">${symbol} </span>${label}</span>`;
}

/** How one run ended, for tables of runs (a check is "failing"; a single run "failed"). */
export function runPill(result: RunSummary): SafeHtml {
  if (result.blocked) return html`<span class="pill blocked"><span aria-hidden="true">⊘ </span>blocked</span>`;
  return result.ok ? html`<span class="pill ok"><span aria-hidden="true">✓ </span>ok</span>` : html`<span class="pill failing"><span aria-hidden="true">✕ </span>failed</span>`;
}

/** An ingress check's verdict (dns-drift, stale-host...), when the result carries one. */
export function verdictOf(result: Result | RunSummary | undefined): string | undefined {
  const verdict = result === undefined ? undefined : 'observations' in result ? result.observations.verdict : result.verdict;
  return typeof verdict === 'string' ? verdict : undefined;
}

/** Reason and verdict tags ahead of the diagnosis sentence. */
export function diagnosisTags(result: Result | RunSummary | undefined): SafeHtml {
  if (!result) return html``;
  const verdict = verdictOf(result);
  const blocked = 'observations' in result ? result.blocked !== undefined : result.blocked === true;
  return html`${blocked && html`<span class="tag warn" title="not run: a dependency fails">blocked</span> `}${result.reason !== undefined && html`<span class="tag bad" title="failure reason">${result.reason}</span> `}${verdict !== undefined && html`<span class="tag ${verdict === 'healthy' ? 'good' : 'bad'}" title="verdict">${verdict}</span> `}`;
}

/** A check's static labels as name=value chips. */
export function labelChips(labels: Record<string, string>): SafeHtml {
  const entries = Object.entries(labels);
  if (entries.length === 0) return html``;
  return html`<div class="labels">${entries.map(([key, value]) => html`<code>${key}=${value}</code>`)}</div>`;
}

/** One line about a result, for tooltips: when, how it ended, why. */
export function describeResult(result: RunSummary): string {
  const outcome = result.ok ? 'ok' : result.blocked ? result.message : `failed${result.reason === undefined ? '' : ` (${result.reason})`}: ${result.message}`;
  return `${result.startedAt} · ${formatMs(result.durationMs)} · ${outcome}`;
}

/** Recent results as small bars, oldest left and newest right, each with its own tooltip. */
export function resultStrip(recent: readonly RunSummary[]): SafeHtml {
  const failed = recent.filter((r) => !r.ok && !r.blocked).length;
  const blocked = recent.filter((r) => r.blocked).length;
  const caption =
    recent.length === 0
      ? 'no runs yet'
      : failed + blocked === 0
        ? `last ${recent.length} ${recent.length === 1 ? 'run' : 'runs'} ok`
        : [failed > 0 && `${failed} of last ${recent.length} failed`, blocked > 0 && `${blocked} blocked`].filter((part) => part !== false).join(', ');
  // Focusable, with the run's reason as accessible text (a title alone reaches neither keyboards nor
  // screen readers); the stylesheet shows that text on hover and focus, so it is written once.
  const bars = [...recent].reverse().map((r) => {
    const text = describeResult(r);
    return html`<li class="${r.ok ? 'ok' : r.blocked ? 'blocked' : 'failed'}" tabindex="0" aria-label="${text}"></li>`;
  });
  return html`<ol class="strip" aria-label="recent runs, oldest first">${bars}</ol><div class="strip-caption muted">${caption}</div>`;
}

/** Failing first (the root causes), then blocked, then pending, then ok; by name within each. */
export const STATUS_ORDER: Record<CheckStatus, number> = { failing: 0, converging: 1, maintenance: 2, blocked: 3, pending: 4, ok: 5 };

/** "blocked by hub-ingress; root cause hub-dns", each a link to that check's page. */
export function blockedBy(result: Result | undefined): SafeHtml {
  const blocked = result?.blocked;
  if (!blocked) return html``;
  const links = (names: readonly string[]) => names.map((name, i) => html`${i > 0 && ', '}<a href="/checks/${encodeURIComponent(name)}">${name}</a>`);
  const same = blocked.roots.length === blocked.by.length && blocked.roots.every((name) => blocked.by.includes(name));
  return html`<div class="small blocked-by">Root cause: ${links(blocked.roots)}${!same && html` (through ${links(blocked.by)})`}</div>`;
}
