/**
 * Markup that is safe to emit as is. Only html`` makes one, from text authored in this codebase
 * (the template literal's own strings) and interpolated values it has escaped, so a check name,
 * label, message or observation cannot turn into markup on its way to the page.
 */
class Markup {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}
export type SafeHtml = Markup;

/** What html`` accepts between ${}: text is escaped; false/null/undefined render nothing. */
export type Interpolation = string | number | SafeHtml | readonly SafeHtml[] | false | null | undefined;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The one escaping function: safe in element text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** Template tag: every interpolated value goes through escapeHtml unless it is html`` already. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}

function render(value: Interpolation): string {
  if (value === false || value === null || value === undefined) return '';
  if (value instanceof Markup) return value.text;
  if (typeof value === 'number') return escapeHtml(String(value));
  if (typeof value === 'string') return escapeHtml(value);
  return value.map((part) => part.text).join('');
}

/** "12 s ago", "in 4 min": short enough for a table cell, exact time is in the datetime. */
export function formatRelative(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return iso;
  const abs = Math.abs(ms);
  if (abs < 5_000) return ms <= 0 ? 'just now' : 'in a moment';
  const [amount, unit] =
    abs < 60_000 ? [abs / 1000, 's'] : abs < 3_600_000 ? [abs / 60_000, 'min'] : abs < 86_400_000 ? [abs / 3_600_000, 'h'] : [abs / 86_400_000, 'd'];
  const text = `${Math.floor(amount)} ${unit}`;
  return ms < 0 ? `${text} ago` : `in ${text}`;
}

/** A <time> element: relative text for reading, the ISO instant for tools and the tooltip. */
export function timeElement(iso: string | undefined, now: number): SafeHtml {
  if (iso === undefined) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}" title="${iso}">${formatRelative(iso, now)}</time>`;
}

/** Milliseconds the way people read them: "3.2 ms", "1.24 s". */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Pretty JSON for a <pre>, escaped like everything else. */
export function prettyJson(value: unknown): SafeHtml {
  return html`${JSON.stringify(value, null, 2)}`;
}
