/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts colour and cursor
 * sequences, LF and CR break a table row), DEL, C1 controls (U+009B is a one-character CSI),
 * the Unicode line and paragraph separators, and the bidirectional controls that reorder text
 * (embeddings, overrides, isolates, and the marks: LRM, RLM, ALM U+061C).
 */
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Characters XML 1.0 does not allow anywhere, not even as character references: C0 controls but
 * tab, LF and CR; U+FFFE and U+FFFF; surrogates that are not part of a pair.
 */
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One character as a visible escape: \n, \r, \t, \x1b, \u2028. */
function escapeCharacter(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** Target-supplied text made safe for a terminal: every control character as a visible escape. */
export function showControls(text: string): string {
  return text.replace(TERMINAL_CONTROLS, escapeCharacter);
}

/** Text made legal for XML 1.0: every character it forbids as a visible escape. */
export function replaceXmlForbidden(text: string): string {
  return text.replace(XML_FORBIDDEN, escapeCharacter);
}
