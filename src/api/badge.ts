import { escapeHtml } from './html.js';

// Shields-style badges (label on grey, value on a colour) drawn here: a README's <img> shows
// them without a badge service in between. Text widths are estimated for 11 px Verdana, as
// shields does, so no font is measured at run time.

export const BADGE_COLOURS = { green: '#2e7d32', red: '#c62828', orange: '#ef6c00', grey: '#757575', blue: '#1565c0', yellow: '#f9a825' } as const;
export type BadgeColour = keyof typeof BADGE_COLOURS;

export interface Badge {
  label: string;
  value: string;
  colour: BadgeColour;
}

/** A rough width of text in 11 px Verdana: wide letters wider, narrow ones narrower. */
function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += /[mwMW@%]/.test(char) ? 10 : /[il.,:;!'|1 ]/.test(char) ? 4 : /[A-Z0-9]/.test(char) ? 7.5 : 6.5;
  return Math.ceil(width);
}

export function badgeSvg({ label, value, colour }: Badge): string {
  const left = textWidth(label) + 12;
  const right = textWidth(value) + 12;
  const width = left + right;
  const text = `${label}: ${value}`;
  const [l, v] = [escapeHtml(label), escapeHtml(value)];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${escapeHtml(text)}"><title>${escapeHtml(text)}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${left}" height="20" fill="#555"/><rect x="${left}" width="${right}" height="20" fill="${BADGE_COLOURS[colour]}"/><rect width="${width}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="${left / 2}" y="14">${l}</text><text class="value" x="${left + right / 2}" y="14">${v}</text></g>
</svg>
`;
}
