import { bind, type BoundCheck } from '../checks/registry.js';
import { TargetNotAllowedError } from '../results/errors.js';
import { closestPattern, isUrl, matchesAny } from './target-patterns.js';

/**
 * A /probe caller may point a check at another target only inside the check's own
 * allowTargets patterns (no open SSRF). Patterns are globs where * matches a run of URL
 * "unreserved" characters only (letters, digits, . _ ~ -): never / ? # @ % or :, so a pattern
 * like https://*.example.com/health cannot be bent into https://evil.test?.example.com/health;
 * host globs, host:port and URL prefixes read as target-patterns.ts says.
 *
 * A URL target (the check's own target is an http(s) URL) is matched in the form the request
 * will use: parsed as WHATWG URL and serialised again (scheme and host in lower case, default
 * port dropped, tabs and newlines removed), after refusing dot segments (`.`, `..`, `%2e`...), so
 * http://h/public/.. cannot pass http://h/public/* and then request http://h/. Every redirect
 * hop of the run must match the patterns too.
 */
export function retarget(check: BoundCheck, target: string, as: 'check' | 'module' = 'check'): BoundCheck {
  const patterns = check.spec.allowTargets ?? [];
  const name = check.spec.name;
  if (check.target === undefined) throw new TargetNotAllowedError(`check ${name} (${check.spec.type}) has no overridable target`);
  const matched = isUrl(check.target) ? normaliseUrl(target, name) : target;
  if (!matchesAny(patterns, matched)) {
    const closest = closestPattern(patterns, matched);
    const hint = closest === undefined ? '' : `; closest pattern: "${closest}"${closest.includes('*') ? ' (* matches letters, digits and . _ ~ - only, never : / ? # @ %)' : ''}`;
    throw new TargetNotAllowedError(`target "${matched}" is not allowed by check ${name} (allowTargets: ${patterns.join(', ') || 'none'})${hint}`);
  }
  const spec = check.retarget(matched, as);
  if (!spec) throw new TargetNotAllowedError(`check ${name} cannot take target "${target}"`);
  // Every redirect hop stays inside the same patterns, or a 302 from an allowed URL would reach any other.
  const refuseRedirect = (url: string) => (matchesAny(patterns, url) ? undefined : `not allowed by check ${name} (allowTargets: ${patterns.join(', ')})`);
  return bind(spec, refuseRedirect);
}

/** The URL a request to `target` would use, or TargetNotAllowedError for one that must not be matched at all. */
function normaliseUrl(target: string, name: string): string {
  const refuse = (why: string) => new TargetNotAllowedError(`target ${JSON.stringify(target.slice(0, 300))} is refused for check ${name}: ${why}`);
  // The raw path, before the URL parser resolves its dot segments away: as the parser does, drop
  // tabs and newlines first, and read \ as / (http URLs).
  const raw = target.trim().replace(/[\t\n\r]/g, '');
  const path = raw.replace(/^[a-z][a-z0-9+.-]*:[/\\]*[^/\\?#]*/i, '').split(/[?#]/)[0] ?? '';
  if (path.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) throw refuse('it has dot segments (. or .., also as %2e)');
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('expected an http:// or https:// URL');
  // Not echoed: the caller's own input, but an answer (or a log of it) is no place for a password.
  if (url.username !== '' || url.password !== '') throw new TargetNotAllowedError(`a target holding credentials (user:password@) is refused for check ${name}`);
  return url.href;
}
