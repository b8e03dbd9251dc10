import cron from 'node-cron';
import { z } from 'zod';
import { duration, DURATION_WANTED } from './duration.js';
import { describeValue } from './problem.js';

/** Label names a check's static labels may not take: the daemon sets these itself. */
export const RESERVED_LABELS = ['check', 'type', 'location', 'result', 'reason', 'resolver', 'answer', 'via', 'phase', 'verdict', 'state', 'le', 'job', 'instance'];

export const checkName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns')
  .max(63, 'must be at most 63 characters');

const CRON_WANTED = 'expected a cron expression of 5 fields (minute hour day month weekday) or 6 with seconds first, like "*/5 * * * *" for every 5 minutes';

export const cronSchedule = z
  .string({ error: CRON_WANTED })
  .meta({ description: 'cron expression, node-cron syntax (optional seconds field first)' })
  .refine((expr) => cron.validate(expr), { error: (issue) => `${CRON_WANTED} (got ${describeValue(issue.input)})` });

const MAINTENANCE_CRON_WANTED = 'expected a cron expression of 5 fields (minute hour day month weekday), like "0 3 * * SUN" for 03:00 every Sunday';
/** A maintenance window lasts at most a day: longer is not maintenance, it is a check to disable. */
const MAX_MAINTENANCE_MS = 24 * 3_600_000;

/** Whether this Node (Intl, its ICU time zone data) knows the zone. */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** One planned maintenance window (docs/gate.md "Maintenance windows"): failures inside it are expected. */
export const maintenanceWindow = z
  .strictObject({
    schedule: z
      .string({ error: MAINTENANCE_CRON_WANTED })
      .meta({ description: 'when each window starts: a 5-field cron expression, node-cron syntax, read in timezone' })
      .refine((expr) => expr.trim().split(/\s+/).length === 5 && cron.validate(expr), { error: (issue) => `${MAINTENANCE_CRON_WANTED} (got ${describeValue(issue.input)})` }),
    duration: duration.refine((ms) => ms <= MAX_MAINTENANCE_MS, 'at most 24h').meta({ description: 'how long each window lasts (at most 24h)' }),
    timezone: z
      .string({ error: 'expected a time zone name, like Europe/Berlin or UTC' })
      .meta({ description: 'IANA time zone the schedule is read in, like Europe/Berlin or UTC (required: no silent server zone)' })
      .refine(knownTimeZone, { error: (issue) => `unknown time zone ${describeValue(issue.input)}: expected an IANA name like Europe/Berlin or UTC` }),
  })
  .meta({ description: 'a planned maintenance window: the check still runs, a failure inside it is "maintenance" and does not alert' });

export const labels = z
  .record(
    z
      .string()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'label names must match [a-zA-Z_][a-zA-Z0-9_]*: letters, digits and underscores, like service or team_name')
      .refine((key) => !key.startsWith('__'), 'label names starting with __ are reserved for Prometheus')
      .refine((key) => !RESERVED_LABELS.includes(key), { error: `reserved label name (reserved: ${RESERVED_LABELS.join(', ')})` }),
    z.string(),
  )
  .meta({ description: 'static labels exported on every series of the check' });

/** Fields every check type has; each type extends this with its own strict fields. */
export const baseFields = {
  name: checkName,
  description: z.string().optional(),
  interval: duration.optional().meta({ description: 'run every interval (default 60s); exclusive with schedule' }),
  schedule: cronSchedule.optional(),
  timeout: duration.default(10_000).meta({ description: 'hard timeout of one run (default 10s)' }),
  labels: labels.default({}),
  allowTargets: z
    .array(z.string())
    .optional()
    .meta({ description: 'glob patterns (*) a /probe caller may use to override the target; none by default' }),
  dependsOn: z
    .array(checkName)
    .optional()
    .meta({ description: 'checks this one depends on: while one of them fails, this check is not run but reported blocked (docs/gate.md)' }),
  maintenance: z.array(maintenanceWindow).max(16).optional().meta({ description: 'planned maintenance windows (docs/gate.md): failures inside one do not alert' }),
};

/** What every check spec has, whatever its type: the base fields, parsed, and the type's name. */
export type BaseSpec = z.output<z.ZodObject<typeof baseFields>> & { type: string };

/**
 * The `defaults:` block of a check file: each key applies to the checks of that file whose type
 * has that key (kubeconfig and context reach only the Kubernetes checks). Values are validated
 * as part of each check, so a bad default is reported once per check it reaches.
 */
export const defaultsSchema = z.strictObject({
  interval: z.string({ error: DURATION_WANTED }).optional(),
  schedule: z.string({ error: CRON_WANTED }).optional(),
  timeout: z.string({ error: DURATION_WANTED }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  maintenance: z.array(z.unknown()).optional().meta({ description: 'maintenance windows of every check of this file that sets none itself' }),
  kubeconfig: z.string().optional().meta({ description: 'kubeconfig file for the Kubernetes checks of this file' }),
  context: z.string().optional().meta({ description: 'kubeconfig context for the Kubernetes checks of this file' }),
});
export type Defaults = z.infer<typeof defaultsSchema>;

export const DEFAULT_INTERVAL_MS = 60_000;
