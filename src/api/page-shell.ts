import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { html, timeElement, type SafeHtml } from './html.js';
import { STYLESHEET } from './status-page.css.js';

export const REFRESH_SECONDS = 15;

// A meta refresh would reload in the middle of reading or selecting; this reloads only when the
// tab is visible, nothing is selected and the reader has not switched it off (remembered).
const REFRESH_SCRIPT = html`(function () {
  var KEY = 'driftwatch.autoRefresh';
  var control = document.getElementById('auto-refresh-control');
  var box = document.getElementById('auto-refresh');
  if (!control || !box) return;
  var stored = null;
  try { stored = localStorage.getItem(KEY); } catch (e) { /* storage disabled: default on */ }
  box.checked = stored !== 'off';
  control.hidden = false;
  box.addEventListener('change', function () {
    try { localStorage.setItem(KEY, box.checked ? 'on' : 'off'); } catch (e) { /* not remembered */ }
  });
  setInterval(function () {
    var selection = window.getSelection();
    if (!box.checked || document.hidden || (selection && !selection.isCollapsed)) return;
    location.reload();
  }, ${REFRESH_SECONDS * 1000});
})();`;

export type PageTone = 'failing' | 'blocked' | 'ok' | 'pending';

const FAVICON_COLOURS: Record<PageTone, string> = { failing: '%23b42318', blocked: '%238a4b00', ok: '%23157f3c', pending: '%235b6270' };

export interface PageParts {
  title: string;
  /** Colours the tab icon, so a pinned tab shows trouble too. */
  tone: PageTone;
  body: SafeHtml;
  now: number;
  /** The overview reloads itself; a detail page is for reading and does not. */
  autoRefresh: boolean;
  /** Where the no-JavaScript refresh link points (the page itself). */
  self: string;
}

/** The document around every status page: head, CSP-nonce'd style and script, top bar, footer. */
export function renderPage(parts: PageParts, nonce: string): SafeHtml {
  const icon = `data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='${FAVICON_COLOURS[parts.tone]}'/%3E%3C/svg%3E`;
  const generated = new Date(parts.now).toISOString();
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${parts.title}</title>
<link rel="icon" href="${icon}">
<style nonce="${nonce}">${STYLESHEET}</style>
</head>
<body>
<header class="top"><div class="wrap">
<a class="brand" href="/">driftwatch</a>
<div class="meta"><span>page generated ${timeElement(generated, parts.now)}</span><a href="${parts.self}">Refresh</a>${parts.autoRefresh && html`<label id="auto-refresh-control" hidden><input type="checkbox" id="auto-refresh" checked>auto-refresh every ${REFRESH_SECONDS} s</label>`}</div>
</div></header>
<main class="wrap">
${parts.body}
</main>
<footer class="wrap">
<a href="/metrics">Prometheus metrics (/metrics)</a><a href="/api/v1/checks">Checks as JSON (/api/v1/checks)</a><a href="/api/v1/openapi.json">API description (/api/v1/openapi.json)</a>
</footer>
${parts.autoRefresh && html`<script nonce="${nonce}">${REFRESH_SCRIPT}</script>`}
</body>
</html>
`;
}

/** Sends a page with headers that keep remote text inert even if escaping were ever missed. */
export function sendPage(reply: FastifyReply, status: number, parts: PageParts): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .code(status)
    .header('content-security-policy', `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(renderPage(parts, nonce).text);
}
