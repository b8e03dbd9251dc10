import { html } from './html.js';

// Inline rather than a second route: the page is one response that works offline from the API,
// and the CSP admits this block by its nonce. Colours carry a text label everywhere (never alone).
export const STYLESHEET = html`
:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #fff; --text: #1a1d23; --muted: #5b6270; --line: #dde1e7;
  --bad: #b42318; --bad-bg: #fdecea; --good: #157f3c; --good-bg: #e7f6ec; --wait: #5b6270; --wait-bg: #eceef2;
  --warn: #8a4b00; --warn-bg: #fff4e0; --link: #1d4ed8; --code-bg: #f0f2f5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111318; --card: #1b1e25; --text: #e8eaef; --muted: #a3a9b6; --line: #2e333d;
    --bad: #ff6b5e; --bad-bg: #3a1714; --good: #4ad27a; --good-bg: #12301d; --wait: #a3a9b6; --wait-bg: #262a33;
    --warn: #ffb547; --warn-bg: #3a2a0e; --link: #8ab4ff; --code-bg: #14161b;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
a { color: var(--link); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
.muted { color: var(--muted); }
.wrap { max-width: 1320px; margin: 0 auto; padding: 0 20px; }
.top { background: #1f2430; color: #f3f4f6; }
.top .wrap { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 6px 16px; padding-top: 10px; padding-bottom: 10px; }
.brand { font-weight: 700; font-size: 17px; color: #fff; text-decoration: none; letter-spacing: 0.01em; }
.top .meta { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 14px; font-size: 13px; color: #c9ced8; }
.top .meta a { color: #c7dbff; }
.top label { white-space: nowrap; cursor: pointer; }
.top input { vertical-align: -2px; margin: 0 4px 0 0; }
main.wrap { padding-top: 18px; padding-bottom: 24px; }
.summary { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 10px 20px;
  background: var(--card); border: 1px solid var(--line); border-left: 8px solid var(--wait); border-radius: 8px; padding: 14px 18px; margin-bottom: 16px; }
.summary.failing { border-left-color: var(--bad); background: var(--bad-bg); }
.summary.ok { border-left-color: var(--good); }
.summary h1 { margin: 0; font-size: 22px; line-height: 1.25; }
.summary.failing h1 { color: var(--bad); }
.summary.blocked { border-left-color: var(--warn); background: var(--warn-bg); }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; padding: 0; list-style: none; }
.counts li { border-radius: 999px; padding: 3px 12px; font-weight: 600; background: var(--wait-bg); color: var(--wait); border: 1px solid var(--line); }
.counts li.failing.some { background: var(--bad); color: #fff; border-color: var(--bad); }
.counts li.ok.some { background: var(--good-bg); color: var(--good); }
.counts li.blocked.some { background: var(--warn-bg); color: var(--warn); border-color: var(--warn); }
.banner { border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; background: var(--warn-bg); color: var(--warn); border: 1px solid var(--warn); }
.banner strong { display: block; margin-bottom: 4px; }
.banner ul { margin: 6px 0 0; padding-left: 20px; color: var(--text); }
.banner code { overflow-wrap: anywhere; }
.pill { display: inline-block; border-radius: 4px; padding: 2px 8px; font-weight: 700; font-size: 12px; letter-spacing: 0.04em; text-transform: uppercase; white-space: nowrap; color: #fff; }
.pill.failing { background: var(--bad); } .pill.ok { background: var(--good); } .pill.pending { background: var(--wait); } .pill.blocked { background: var(--warn); }
@media (prefers-color-scheme: dark) { .pill { color: #111318; } }
.tag { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 12px; font-weight: 600; border: 1px solid var(--line); background: var(--wait-bg); color: var(--muted); white-space: nowrap; }
.tag.bad { background: var(--bad-bg); color: var(--bad); border-color: var(--bad); }
.tag.good { background: var(--good-bg); color: var(--good); border-color: var(--good); }
.tag.warn { background: var(--warn-bg); color: var(--warn); border-color: var(--warn); }
.pages { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 6px 16px; margin: 12px 0; }
.pages > span:not(.muted) { color: var(--muted); }
.panel, table.checks { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
table.checks { border-collapse: separate; border-spacing: 0; overflow: hidden; }
th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; padding: 10px 12px; border-bottom: 1px solid var(--line); }
td { padding: 10px 12px; vertical-align: top; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
tbody tr:last-child td { border-bottom: 0; }
tr.row > td:first-child { border-left: 6px solid var(--wait); }
tr.row.failing > td:first-child { border-left-color: var(--bad); }
tr.row.ok > td:first-child { border-left-color: var(--good); }
tr.row.blocked > td:first-child { border-left-color: var(--warn); }
tr.row.failing { background: color-mix(in srgb, var(--bad-bg) 55%, var(--card)); }
.c-state { width: 130px; } .c-last { width: 120px; white-space: nowrap; } .c-recent { width: 240px; } .c-links { width: 110px; }
.c-check { width: 24%; }
.name { font-weight: 700; font-size: 16px; text-decoration: none; overflow-wrap: anywhere; }
.name:hover { text-decoration: underline; }
.small { font-size: 13px; }
.labels { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.labels code { background: var(--code-bg); border: 1px solid var(--line); border-radius: 4px; padding: 0 5px; font-size: 12px; overflow-wrap: anywhere; }
.desc { margin-top: 4px; color: var(--muted); font-size: 13px; }
.message { display: block; margin-top: 3px; }
tr.row.failing .message { font-weight: 600; }
/* 20 slots (the state store's default history) drawn by the background, newest at the right;
   a longer history overflows to the left and is clipped, so the newest always show. */
.strip { display: flex; justify-content: flex-end; gap: 2px; width: 198px; height: 18px; overflow: hidden; margin: 2px 0 0; padding: 0; list-style: none;
  background: repeating-linear-gradient(to left, var(--wait-bg) 0 8px, transparent 8px 10px); }
.strip li { flex: none; width: 8px; height: 18px; border-radius: 2px; background: var(--good); }
.strip li.failed { background: var(--bad); }
.strip li.blocked { background: var(--warn); }
.blocked-by { margin-top: 3px; }
.strip-caption { width: 198px; font-size: 12px; text-align: right; margin-top: 2px; }
/* A run's reason on hover and keyboard focus: the tip's containing block is the cell, outside
   the strip's clipping box, so it is not cut off. */
.c-recent, .pictures-panel { position: relative; }
.strip li:focus { outline: 2px solid var(--link); outline-offset: -2px; }
.strip li:hover::after, .strip li:focus::after { content: attr(aria-label); position: absolute; z-index: 2; right: 0; margin-top: 22px; max-width: 420px;
  padding: 4px 8px; border-radius: 4px; background: var(--text); color: var(--card); font-size: 12px; white-space: normal; }
.pictures { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; margin-top: 4px; max-width: 240px; }
.spark-wrap, .chart-wrap { display: inline-flex; align-items: center; gap: 4px; flex-wrap: wrap; }
svg.spark, svg.chart { overflow: visible; }
svg .total { fill: none; stroke: var(--link); stroke-width: 1.5; }
svg .phase { fill: none; stroke: var(--muted); stroke-width: 1; stroke-dasharray: 3 2; }
svg .fail { fill: none; stroke: var(--bad); stroke-linecap: round; }
svg .axis line { stroke: var(--line); } svg .axis text { fill: var(--muted); font-size: 11px; }
.spark-scale { font-size: 11px; }
dl.uptime { display: flex; gap: 6px; margin: 0; font-size: 11px; white-space: nowrap; }
dl.uptime div { display: flex; gap: 3px; } dl.uptime dt { color: var(--muted); } dl.uptime dd { margin: 0; font-variant-numeric: tabular-nums; }
.chart-figure { margin: 12px 0 0; } .chart-figure svg.chart { max-width: 100%; height: auto; }
.legend .key { display: inline-block; width: 14px; height: 0; border-top: 2px solid var(--link); vertical-align: middle; }
.legend .key.phase { border-top: 1px dashed var(--muted); } .legend .key.fail { width: 6px; height: 6px; border: 0; border-radius: 50%; background: var(--bad); }
.uptime-note { margin: 6px 0; }
.c-links a { display: block; font-size: 13px; }
.empty { padding: 24px; text-align: center; }
footer.wrap { padding-bottom: 28px; font-size: 13px; color: var(--muted); }
footer a { margin-right: 14px; }
.crumbs { margin: 0 0 10px; }
.hero { margin-bottom: 16px; }
.hero h1 { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; font-size: 24px; overflow-wrap: anywhere; }
.hero .message { font-size: 16px; margin-top: 6px; }
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin-bottom: 16px; }
.panel { padding: 4px 16px 12px; margin-bottom: 16px; min-width: 0; }
.grid .panel { margin-bottom: 0; }
.panel h2 { font-size: 15px; margin: 12px 0 8px; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 6px 14px; margin: 0; }
dl.facts dt { color: var(--muted); font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts pre { margin: 0; }
pre { background: var(--code-bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; margin: 0 0 4px; max-width: 100%; }
.secret { background: var(--warn-bg); color: var(--warn); border-radius: 4px; padding: 0 5px; font-weight: 600; }
table.results td, table.results th { padding: 8px 10px; }
table.results td.when { white-space: nowrap; }
@media (max-width: 760px) {
  .wrap { padding: 0 12px; }
  .summary h1 { font-size: 19px; }
  .grid { grid-template-columns: minmax(0, 1fr); }
  table.checks, table.checks tbody { display: block; background: none; border: 0; }
  table.checks thead, table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  tr.row { display: grid; grid-template-columns: minmax(0, 1fr) auto; grid-template-areas: "check state" "diag diag" "last links" "recent recent";
    background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--wait); border-radius: 8px; margin-bottom: 10px; padding: 4px 0; }
  tr.row.failing { border-left-color: var(--bad); } tr.row.ok { border-left-color: var(--good); } tr.row.blocked { border-left-color: var(--warn); }
  tr.row > td, tr.row > td:first-child { display: block; width: auto; border: 0; padding: 6px 12px; }
  .c-state { grid-area: state; text-align: right; } .c-check { grid-area: check; } .c-diag { grid-area: diag; }
  .c-last { grid-area: last; } .c-links { grid-area: links; text-align: right; } .c-recent { grid-area: recent; }
  .c-links a { display: inline; margin-left: 10px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.stack td { border: 0; padding: 2px 0; }
  table.stack td::before { content: attr(data-label) ": "; color: var(--muted); font-weight: 600; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin-bottom: 8px; }
}
`;
