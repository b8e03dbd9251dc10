import { z } from 'zod';
import { UPTIME_WINDOWS, type UptimeAnswer, type UptimeSource, type UptimeWindow } from './uptime.js';

// A small client of Prometheus's HTTP API for the status page's long-range uptime: one instant
// query per page (every check of the page, every window, `by (check)`), a timeout so a hanging
// Prometheus never stalls the page, and a cache so a page refreshed every 15 s by many people
// asks Prometheus once a minute.

const answerSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});

/** A Prometheus answer is small (a few numbers per check); more than this is not an answer. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const MAX_CACHED = 64;

export interface PrometheusUptimeOptions {
  timeoutMs?: number;
  cacheMs?: number;
  /** How long a failure is remembered before Prometheus is asked again. */
  failureCacheMs?: number;
}

/** The PromQL for a set of checks: one series per (check, window). */
export function uptimeQuery(checks: readonly string[]): string {
  const names = checks.map(escapeRegex).join('|');
  const selector = `driftwatch_check_success{check=~${promString(names)}}`;
  return UPTIME_WINDOWS.map(({ key }) => `label_replace(avg by (check) (avg_over_time(${selector}[${key}])), "window", "${key}", "", "")`).join(' or ');
}

export function prometheusUptime(baseUrl: string, options: PrometheusUptimeOptions = {}): UptimeSource {
  const timeoutMs = options.timeoutMs ?? 2000;
  const cacheMs = options.cacheMs ?? 60_000;
  const failureCacheMs = options.failureCacheMs ?? 10_000;
  const endpoint = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const cache = new Map<string, { expires: number; answer: Promise<UptimeAnswer> }>();

  const read = (checks: readonly string[], now: number): Promise<UptimeAnswer> => {
    if (checks.length === 0) return Promise.resolve({ ok: true, at: now, values: new Map() });
    const key = checks.join('\n');
    const hit = cache.get(key);
    if (hit && hit.expires > now) return hit.answer;
    if (cache.size >= MAX_CACHED) cache.clear();
    const answer = ask(endpoint, checks, now, timeoutMs);
    const entry = { expires: now + cacheMs, answer };
    cache.set(key, entry);
    void answer.then((a) => {
      if (!a.ok) entry.expires = now + failureCacheMs;
    });
    return answer;
  };
  return { timeoutMs, read };
}

async function ask(endpoint: URL, checks: readonly string[], now: number, timeoutMs: number): Promise<UptimeAnswer> {
  // The evaluation time is sent, so the page can say (and a test can ask) the instant it shows:
  // a whole second at least a second ago, so a scrape still being written at that instant is not
  // half seen (the same query later gives the same figure).
  const at = Math.floor(now / 1000) * 1000 - 1000;
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ query: uptimeQuery(checks), time: String(at / 1000) }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    const text = await response.text();
    if (text.length > MAX_ANSWER_BYTES) return { ok: false, problem: `Prometheus answered ${text.length} bytes, more than an uptime answer can be` };
    if (!response.ok) return { ok: false, problem: `Prometheus answered HTTP ${response.status}` };
    const parsed = answerSchema.safeParse(safeJson(text));
    if (!parsed.success) return { ok: false, problem: 'Prometheus answered something that is not a query result (wrong URL?)' };
    const values = new Map<string, Partial<Record<UptimeWindow, number>>>();
    for (const { metric, value } of parsed.data.data.result) {
      const check = metric.check;
      const window = UPTIME_WINDOWS.find((w) => w.key === metric.window)?.key;
      const ratio = Number(value[1]);
      if (check === undefined || window === undefined || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) continue;
      values.set(check, { ...values.get(check), [window]: ratio });
    }
    return { ok: true, at, values };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, problem: timedOut ? `Prometheus did not answer within ${timeoutMs / 1000} s` : `cannot reach Prometheus: ${describe(err)}` };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ?? (cause instanceof Error ? cause.message : 'unknown error');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A PromQL double-quoted string literal. */
function promString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
