import { DEFAULT_INTERVAL_MS } from '../config/base.js';
import { formatDuration } from '../config/duration.js';
import { Secret } from '../config/secret.js';
import { REDACTED } from '../results/secret-forms.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { inMaintenance } from '../state/maintenance.js';
import type { CheckEntry } from './served-daemon.js';

/**
 * blocked: not run because a dependency (dependsOn) fails; last.blocked names it and the root causes.
 * converging: failing inside an open deploy window; maintenance: failing inside a maintenance window.
 */
export type CheckStatus = 'ok' | 'failing' | 'converging' | 'maintenance' | 'blocked' | 'pending';

/** Every status, in the order the status page lists them (failing first: the root causes). */
export const CHECK_STATUSES = ['failing', 'converging', 'maintenance', 'blocked', 'pending', 'ok'] as const satisfies readonly CheckStatus[];

/** The check's state from its latest result; cheap, so lists can filter and count 100,000 checks. */
export function checkStatus(entry: CheckEntry, now = Date.now()): CheckStatus {
  const state = entry.lastState;
  if (state !== 'failing') return state;
  if (entry.window !== undefined) return 'converging';
  const maintenance = entry.check.spec.maintenance;
  return maintenance !== undefined && maintenance.length > 0 && inMaintenance(maintenance, now) ? 'maintenance' : 'failing';
}

/** How the API (and the status page) present a check: JSON-safe, secrets as [secret]. */
export function summarizeCheck(entry: CheckEntry, scheduler: Pick<Scheduler, 'nextRunAt'>) {
  const { spec, file, line, dependencies } = entry.check;
  const last = entry.last;
  const status = checkStatus(entry);
  return {
    name: spec.name,
    type: spec.type,
    description: spec.description,
    labels: spec.labels,
    // dependsOn and the checks it reads from (expect.digestFrom): what can block it.
    dependsOn: dependencies,
    source: `${file}:${line}`,
    every: spec.schedule ?? formatDuration(spec.interval ?? DEFAULT_INTERVAL_MS),
    timeout: formatDuration(spec.timeout),
    nextRunAt: scheduler.nextRunAt(spec.name)?.toISOString(),
    status,
    // The open deploy window that makes a failure "converging" (GET /api/v1/windows/ID).
    window: entry.window,
    since: entry.changedAt,
    streak: entry.streak,
    last,
  };
}

/** What a configured request header's value shows as when it was written inline. */
export const HIDDEN = '[hidden]';

/**
 * The check's spec as JSON: Secret values serialise as [secret] (Secret.toJSON), and request
 * header values are never shown, inline ones neither (a token pasted inline, a session id):
 * their names are, each value [secret] or [hidden].
 */
export function specView(entry: CheckEntry): Record<string, unknown> {
  const spec = entry.check.spec;
  const view = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  if ('headers' in spec) view.headers = Object.fromEntries(Object.entries(spec.headers).map(([name, value]) => [name, value instanceof Secret ? REDACTED : HIDDEN]));
  return view;
}
