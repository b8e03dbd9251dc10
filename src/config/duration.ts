import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses "500ms", "30s", "5m", "1h" into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  if (amount === undefined || unit === undefined) return undefined;
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
}

/** Formats milliseconds the way check files write them. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export const DURATION_WANTED = 'expected a duration: a number and ms, s, m or h, like 30s or 1.5m';

/** A duration string in the check file, parsed to milliseconds. */
export const duration = z
  .string({ error: DURATION_WANTED })
  .meta({ description: 'duration such as 500ms, 30s, 5m, 1h', pattern: DURATION.source })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `${ms === undefined ? DURATION_WANTED : 'must be longer than 0'} (got ${JSON.stringify(text)})` });
      return z.NEVER;
    }
    return ms;
  });
