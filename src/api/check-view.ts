import { DEFAULT_INTERVAL_MS } from '../config/base.js';
import { formatDuration } from '../config/duration.js';
import type { Scheduler } from '../scheduler.js';
import type { CheckEntry } from '../state.js';

/** blocked: not run because a dependency (dependsOn) fails; last.blocked names it and the root causes. */
export type CheckStatus = 'ok' | 'failing' | 'blocked' | 'pending';

/** How the API (and the status page) present a check: JSON-safe, secrets as [secret]. */
export function summarizeCheck(entry: CheckEntry, scheduler: Scheduler) {
  const { spec, file, line } = entry.check;
  const last = entry.last;
  const status: CheckStatus = last === undefined ? 'pending' : last.ok ? 'ok' : last.blocked ? 'blocked' : 'failing';
  return {
    name: spec.name,
    type: spec.type,
    description: spec.description,
    labels: spec.labels,
    dependsOn: spec.dependsOn ?? [],
    source: `${file}:${line}`,
    every: spec.schedule ?? formatDuration(spec.interval ?? DEFAULT_INTERVAL_MS),
    timeout: formatDuration(spec.timeout),
    nextRunAt: scheduler.nextRunAt(spec.name)?.toISOString(),
    status,
    since: entry.changedAt,
    streak: entry.streak,
    last,
  };
}

/** The check's spec as JSON: Secret values serialise as [secret] (Secret.toJSON). */
export function specView(entry: CheckEntry): Record<string, unknown> {
  return JSON.parse(JSON.stringify(entry.check.spec)) as Record<string, unknown>;
}
