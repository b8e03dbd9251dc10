/**
 * allowTargets patterns. A glob's `*` matches a run of URL "unreserved" characters only
 * (letters, digits, . _ ~ -): never / ? # @ % or :, so no pattern can be bent to another host.
 * Beside a whole match, three forms say what their writers mean:
 *
 * - a host glob, no port and no scheme (`127.0.0.*`, `*.example.com`): the target's host, any
 *   port, any scheme and path (`127.0.0.5:22`, `http://127.0.0.5:8080/x`);
 * - host:port (`10.0.0.3:*`, `db.example:5432`): a URL target's host and port too (its default
 *   port when the URL has none);
 * - a URL without a path (`http://10.0.0.3:*`, `https://*.example.com`): a prefix, any path on
 *   that origin; `:*` there covers the default port too (the URL form drops it).
 *
 * A URL pattern with a path keeps to the glob: `https://h/public/*` covers /public/x, not
 * /public/x/y.
 */
export function matchesPattern(pattern: string, target: string): boolean {
  if (globToRegExp(pattern).test(target)) return true;
  const url = isUrl(target) && URL.canParse(target) ? new URL(target) : undefined;
  if (isUrl(pattern)) {
    if (url === undefined || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(pattern)) return false;
    const origin = `${url.protocol}//${url.host}`;
    return globToRegExp(pattern).test(origin) || (pattern.endsWith(':*') && url.port === '' && globToRegExp(pattern.slice(0, -2)).test(origin));
  }
  const wanted = splitHostPort(pattern);
  const actual = url ? { host: url.hostname, port: url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port } : splitHostPort(target);
  if (!globToRegExp(wanted.host).test(actual.host)) return false;
  if (wanted.port === undefined) return true;
  return actual.port !== undefined && globToRegExp(wanted.port).test(actual.port);
}

export function matchesAny(patterns: readonly string[], target: string): boolean {
  return patterns.some((p) => matchesPattern(p, target));
}

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[A-Za-z0-9._~-]*')}$`);
}

export function isUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** host and port of `host:port`, `[v6]:port`, or a host alone (port undefined). */
function splitHostPort(text: string): { host: string; port: string | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*):([^:]*)$/.exec(text);
  return match ? { host: match[1] ?? '', port: match[2] } : { host: text, port: undefined };
}

/**
 * The pattern that came closest to the target, for the 403 answer: the fewest characters to
 * change, a `*` matching any run for free (an edit distance of the glob against the target).
 */
export function closestPattern(patterns: readonly string[], target: string): string | undefined {
  let best: { pattern: string; distance: number } | undefined;
  const text = target.slice(0, 300);
  for (const pattern of patterns) {
    const distance = globDistance(pattern.slice(0, 300), text);
    if (best === undefined || distance < best.distance) best = { pattern, distance };
  }
  return best?.pattern;
}

function globDistance(pattern: string, text: string): number {
  let previous = Array.from({ length: text.length + 1 }, (_, j) => j);
  for (let i = 1; i <= pattern.length; i++) {
    const star = pattern[i - 1] === '*';
    const row = [star ? (previous[0] ?? 0) : (previous[0] ?? 0) + 1];
    for (let j = 1; j <= text.length; j++) {
      const up = previous[j] ?? 0;
      const left = row[j - 1] ?? 0;
      const diagonal = previous[j - 1] ?? 0;
      row.push(star ? Math.min(up, left) : Math.min(diagonal + (pattern[i - 1] === text[j - 1] ? 0 : 1), up + 1, left + 1));
    }
    previous = row;
  }
  return previous[text.length] ?? 0;
}
