/**
 * What a Prometheus scrape of /probe says about itself in its headers: how long it will wait,
 * and which formats it reads.
 */

/** blackbox_exporter's --timeout-offset default: the answer must be on its way before Prometheus gives up. */
export const TIMEOUT_OFFSET_MS = 500;

/**
 * X-Prometheus-Scrape-Timeout-Seconds less the offset, the limit of the run, as blackbox
 * computes it: absent, or not above the offset, means no limit beyond the check's own timeout.
 */
export function scrapeTimeoutMs(header: string | string[] | undefined): { ms?: number; error?: string } {
  if (header === undefined) return {};
  const text = Array.isArray(header) ? header[0] : header;
  const seconds = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    return { error: `X-Prometheus-Scrape-Timeout-Seconds: expected a number of seconds, got ${JSON.stringify(text)}` };
  }
  const ms = seconds * 1000 - TIMEOUT_OFFSET_MS;
  return ms > 0 ? { ms } : {};
}

const EXPOSITION_TYPES = new Set(['text/plain', 'application/openmetrics-text']);

/**
 * Whether the caller asked for the Prometheus text format: an Accept header that ranks
 * text/plain or OpenMetrics (Prometheus sends `application/openmetrics-text;...;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`) at least as high as application/json. Otherwise the
 * request's own kind decides: text for module= (blackbox's callers), JSON for check=.
 */
export function wantsExposition(accept: string | undefined, byDefault: boolean): boolean {
  let text = 0;
  let json = 0;
  for (const part of (accept ?? '').split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const weight = Number.isFinite(q) ? q : 0;
    if (EXPOSITION_TYPES.has(type)) text = Math.max(text, weight);
    else if (type === 'application/json') json = Math.max(json, weight);
  }
  if (text === 0 && json === 0) return byDefault;
  return text >= json;
}

/**
 * Whether Accept-Encoding lets /metrics answer in gzip: `gzip` (or its old alias `x-gzip`)
 * listed with a weight above 0. Prometheus sends `Accept-Encoding: gzip`. A bare `*` does not
 * count: a client that names no coding gets the text as it always has.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    return Number.isFinite(weight) && weight > 0;
  }
  return false;
}
