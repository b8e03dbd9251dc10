import type { Result } from '../results/result.js';
import { listNames } from './blocked.js';
import { firstBrokenLinks } from './broken-links.js';
import { formatSeconds, type GateCheck, type GateOutcome } from './wait.js';

const MAX_ROOTS = 5;
const MAX_BLOCKED_NAMES = 8;
const MAX_MESSAGE = 160;

/**
 * One sentence on the whole gate, naming the first broken links of the dependency graph: the
 * checks that failed on their own (every failing check that is not blocked), each with its
 * reason and what it blocks; a single one also with its message. "First broken link: hub-db
 * (auth), blocking hub-app and hub-migrations: password authentication failed for user "app"."
 */
export function summarySentence(results: readonly Result[]): string {
  const links = firstBrokenLinks(results);
  const blocked = results.filter((r) => r.blocked !== undefined);
  if (links.length === 0 && blocked.length === 0) return results.length === 1 ? 'The check passes.' : `All ${results.length} checks pass.`;
  if (links.length === 0) return `${blocked.length} blocked ${blocked.length === 1 ? 'check waits' : 'checks wait'} for dependencies without a result.`;
  const roots = links.map((link) => link.result);
  const phrases = links.slice(0, MAX_ROOTS).map(({ result: root, blocking }) => `${root.name} (${root.reason ?? 'error'})${blocking.length > 0 ? `, blocking ${listCapped(blocking)}` : ''}`);
  const [only] = roots;
  if (roots.length === 1 && only !== undefined) return `First broken link: ${phrases.join('')}: ${shorten(only.message)}.`;
  const more = roots.length > MAX_ROOTS ? `; and ${roots.length - MAX_ROOTS} more failing` : '';
  return `First broken links: ${phrases.join('; ')}${more}.`;
}

function listCapped(names: readonly string[]): string {
  if (names.length <= MAX_BLOCKED_NAMES) return listNames(names);
  return `${names.slice(0, MAX_BLOCKED_NAMES).join(', ')} and ${names.length - MAX_BLOCKED_NAMES} more`;
}

function shorten(message: string): string {
  const text = message.replace(/\s+/g, ' ').replace(/\.$/, '');
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

/**
 * `run --summary FILE`: a Markdown report for a CI job summary ($GITHUB_STEP_SUMMARY on GitHub,
 * the same variable on Gitea 1.27+): a heading with the verdict, the summary sentence, and one
 * table row per check, failures first. Every text from a target is escaped for Markdown and
 * HTML, so a response cannot add links (autolinks included), markup or table cells to the report.
 */
export function formatMarkdown(outcome: GateOutcome, options: { waited: boolean; release?: string | undefined }): string {
  const results = outcome.checks.map((c) => c.result);
  const failing = results.filter((r) => !r.ok && r.blocked === undefined).length;
  const blocked = results.filter((r) => r.blocked !== undefined).length;
  const heading =
    failing + blocked === 0
      ? `### ✅ driftwatch: all ${results.length} checks pass`
      : `### ❌ driftwatch: ${failing} of ${results.length} checks failing${blocked > 0 ? `, ${blocked} blocked` : ''}`;
  const facts = [
    ...(options.release !== undefined ? [`release \`${inlineCode(options.release)}\``] : []),
    ...(options.waited ? [`${outcome.rounds} ${outcome.rounds === 1 ? 'round' : 'rounds'} in ${formatSeconds(outcome.elapsedMs)}`] : []),
    ...(outcome.interrupted !== undefined ? [`interrupted by ${outcome.interrupted}`] : []),
  ];
  const columns = ['Result', 'Check', 'Type', 'Time', ...(options.waited ? ['Attempts', 'Passed after'] : []), 'Detail'];
  const align = ['---', '---', '---', '--:', ...(options.waited ? ['--:', '--:'] : []), '---'];
  const order = (c: GateCheck) => (c.result.ok ? 2 : c.result.blocked ? 1 : 0);
  const rows = [...outcome.checks]
    .sort((a, b) => order(a) - order(b) || a.result.name.localeCompare(b.result.name))
    .map(({ result: r, attempts, passedAfterMs }) => [
      r.ok ? '✅ pass' : r.blocked ? '⏸️ blocked' : '❌ fail',
      `\`${r.name}\``,
      r.type,
      `${Math.round(r.durationMs)} ms`,
      ...(options.waited ? [String(attempts), passedAfterMs === undefined ? '–' : formatSeconds(passedAfterMs)] : []),
      escapeCell(r.ok || r.blocked ? r.message : `${r.reason ?? 'error'}: ${r.message}`),
    ]);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    heading,
    '',
    ...(facts.length > 0 ? [facts.join(' · '), ''] : []),
    escapeCell(summarySentence(results)),
    '',
    line(columns),
    line(align),
    ...rows.map(line),
    '',
  ].join('\n');
}

/** C0 controls, DEL and the Unicode line and paragraph separators: a message's line breaks, read as spaces. */
const LINE_BREAKS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/**
 * C1 controls (U+009B is a one-character CSI) and the bidirectional controls (embeddings,
 * overrides, isolates, the marks), which reorder or hide what a reader sees: shown as escapes
 * (\u202e), as the terminal table shows them (commands/visible-text.ts, a layer above this one).
 */
const HIDDEN = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** U+2060: invisible, and no line break at it. */
const WORD_JOINER = '\u2060';

/**
 * Text safe inside a Markdown table cell: no markup, no HTML, no cell break, one line, no
 * autolink, nothing that reorders or hides text.
 */
function escapeCell(text: string): string {
  return defuseAutolinks(
    showHidden(text.replace(LINE_BREAKS, ' '))
      .replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c)
      .replace(/[\\`*_[\]|#~!]/g, '\\$&'),
  );
}

function inlineCode(text: string): string {
  return showHidden(text.replace(/[`\u0000-\u001f\u007f\u2028\u2029]/g, ''));
}

function showHidden(text: string): string {
  return text.replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A bare URL, www. name or e-mail address in a job summary becomes a live link (GFM's autolink
 * extension on GitHub, goldmark's linkify on Gitea), and @name a mention: a target could put a
 * link of its choosing into the CI page. A word joiner before "://", inside "www." and after "@"
 * leaves the text as it reads but no scheme, www. or address either renderer recognises: tried
 * with cmark-gfm 0.29.0.gfm.6 and goldmark 1.5.4 (Debian 12), which do link
 * "http://\u2060evil.example" and "www.\u2060evil.example" (a non-ASCII character passes for part
 * of a domain), but neither "http\u2060://", "www\u2060." nor "a@\u2060b.c". Schemes and www. in
 * any case: cmark-gfm links HTTP://.
 */
function defuseAutolinks(text: string): string {
  return text
    .replace(/:\/\//g, `${WORD_JOINER}://`)
    .replace(/(www)\./gi, `$1${WORD_JOINER}.`)
    .replace(/@/g, `@${WORD_JOINER}`);
}
