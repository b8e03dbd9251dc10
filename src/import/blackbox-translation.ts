import { patternProblem } from '../checks/pattern.js';

/**
 * What became of one blackbox module. A module is written only when its check decides as
 * blackbox_exporter would for every target: anything that could change probe_success and has
 * no driftwatch equivalent leaves the whole module out (`refused`), because a check that passes
 * where blackbox fails is a silent false pass.
 */
export interface Translation {
  module: string;
  /** The check, absent when the module is left out. */
  check?: Record<string, unknown>;
  /** Why the module is left out: each part the check could not express without deciding otherwise. */
  refused: string[];
  /** Parts dropped that cannot change what passes (a section for another prober, HTTP/3 in valid_http_versions). */
  untranslated: string[];
  /** Things the user must know or do (secrets to set, different defaults). */
  notes: string[];
}

export function emptyTranslation(module: string): Translation {
  return { module, refused: [], untranslated: [], notes: [] };
}

/** An environment variable name for a module's secret: BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_PASSWORD. */
export function envName(module: string, what: string): string {
  return `BLACKBOX_${module}_${what}`.toUpperCase().replace(/[^A-Z0-9_]+/g, '_');
}

/** preferred_ip_protocol with blackbox's defaults (ip6, falling back to ip4), spelt as driftwatch keys. */
export function ipProtocolOf(probe: { preferred_ip_protocol?: string | undefined; ip_protocol_fallback?: boolean | undefined }): Record<string, unknown> {
  const ipProtocol = probe.preferred_ip_protocol === 'ip4' || probe.preferred_ip_protocol === 'ipv4' ? 'ip4' : 'ip6';
  return { ipProtocol, ...(probe.ip_protocol_fallback === false && { ipProtocolFallback: false }) };
}

/**
 * Patterns are carried over exactly as written: check files are RE2, as Go's regexp is, so
 * they mean the same. One that driftwatch's RE2 refuses (Go accepts a few, such as a capture
 * name used twice) refuses the module; it is never rewritten.
 */
export function acceptPatterns(out: Translation, key: string, patterns: readonly string[]): boolean {
  let accepted = true;
  for (const pattern of patterns) {
    const problem = patternProblem(pattern);
    if (problem === undefined) continue;
    out.refused.push(`${key} /${pattern}/: driftwatch's RE2 (re2js) refuses it: ${problem.replace(/^invalid regular expression \([^)]*\): /, '')}`);
    accepted = false;
  }
  return accepted;
}

/** tls_config keys both checks read; any other (client certificates, TLS version limits) leaves the module out. */
export const TLS_KEYS = { shape: { insecure_skip_verify: 0, ca_file: 0, server_name: 0 } };

/** Keys of `value` its schema does not name. */
export function unknownKeys(value: object, schema: { shape: object }): string[] {
  const known = new Set(Object.keys(schema.shape));
  return Object.keys(value).filter((key) => !known.has(key));
}

/**
 * Keys without a driftwatch equivalent, sorted by whether dropping them can change the outcome:
 * those in `harmless` (with the reason it cannot) are untranslated; all others refuse the
 * module, with the reason in `refusedWhy` where there is a known one.
 */
export function sortUnknownKeys(out: Translation, prefix: string, keys: readonly string[], harmless: Readonly<Record<string, string>> = {}, refusedWhy: Readonly<Record<string, string>> = {}): void {
  for (const key of keys) {
    const why = Object.hasOwn(harmless, key) ? harmless[key] : undefined;
    if (why !== undefined) out.untranslated.push(`${prefix}${key}: ${why}`);
    else out.refused.push(`${prefix}${key}: ${(Object.hasOwn(refusedWhy, key) ? refusedWhy[key] : undefined) ?? 'no driftwatch equivalent, and without it the check could decide otherwise'}`);
  }
}

/** blackbox's durations (Prometheus model.Duration: 1m30s, 1d) in milliseconds; undefined when malformed. */
export function blackboxDurationMs(text: string): number | undefined {
  const match = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || text === '') return undefined;
  const units = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
  return units.reduce((sum, unit, i) => sum + Number(match[i + 1] ?? 0) * unit, 0);
}
