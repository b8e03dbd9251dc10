/**
 * The forms of a secret value a target may echo back, which outputs are scrubbed of. A header
 * secret is often "Bearer X" or "Basic BASE64": a target that echoes only X, the decoded
 * user:password or the password would leak it past a whole-value match, and one that puts it
 * in a redirect Location shows it URL-encoded (in finalUrl).
 */

/** What a secret, and every form of it found in an output, shows as. */
export const REDACTED = '[secret]';

/**
 * Parts shorter than this are not scrubbed on their own: a 3-letter password part would turn
 * every "the" into [secret] and make results unreadable. 6 covers the shortest passwords in
 * common use (PINs aside); a credential under 6 characters is guessable anyway. The whole
 * configured value is always scrubbed, whatever its length.
 */
export const MIN_FRAGMENT = 6;

/** `Bearer X`, `Token X`, `Basic X`, `ApiKey X`: an auth scheme word, then the credential. */
const SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)[ \t]+(\S(?:.*\S)?)$/s;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The value, its meaningful parts, and each of them URL-encoded (encodeURIComponent, encodeURI, form encoding; both hex cases). */
export function scrubForms(value: string): string[] {
  const parts = new Set<string>([value]);
  const fragment = (text: string | undefined) => {
    if (text !== undefined && text.length >= MIN_FRAGMENT) parts.add(text);
  };
  const scheme = SCHEME.exec(value);
  const credential = scheme?.[2];
  fragment(credential);
  if (scheme?.[1]?.toLowerCase() === 'basic' && credential !== undefined) {
    const pair = decodeBasic(credential);
    if (pair !== undefined) {
      fragment(pair);
      fragment(pair.slice(pair.indexOf(':') + 1));
    }
  }
  // A cookie header: name=value; name=value: each value is a credential.
  if (/^[^=;\s]+=/.test(value)) for (const pair of value.split(';')) fragment(pair.slice(pair.indexOf('=') + 1).trim());
  const forms = new Set<string>();
  for (const part of parts) {
    for (const form of [part, ...encoded(part)]) {
      forms.add(form);
      forms.add(form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
    }
  }
  return [...forms];
}

function encoded(part: string): string[] {
  const form = new URLSearchParams([['', part]]).toString().slice(1);
  try {
    return [encodeURIComponent(part), encodeURI(part), form];
  } catch {
    // A lone surrogate cannot be percent-encoded, so no URL carries it that way either.
    return [form];
  }
}

/** "user:password" from a Basic credential, when it is base64 of printable text with a colon. */
function decodeBasic(credential: string): string | undefined {
  if (!BASE64.test(credential)) return undefined;
  const decoded = Buffer.from(credential, 'base64').toString('utf8');
  if (!decoded.includes(':') || CONTROL.test(decoded) || decoded.includes('\ufffd')) return undefined;
  return decoded;
}
