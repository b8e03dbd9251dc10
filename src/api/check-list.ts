import { z } from 'zod';
import type { CheckEntry } from './served-daemon.js';
import { CHECK_STATUSES, checkStatus, type CheckStatus } from './check-view.js';
import { decodeCursor, encodeCursor, firstAtOrAfter } from './check-index.js';

/** Checks per answer of GET /api/v1/checks (and rows per status page): one page holds a small instance. */
export const PAGE_SIZE = 500;
/** At 100,000 checks the whole list is ~100 MB of JSON; a page of 1,000 is about 1 MB. */
export const MAX_PAGE_SIZE = 1000;

const ACCEPTED = 'limit, cursor, status, name';
const STATUS_HINT = `expected ${CHECK_STATUSES.join(', ')} (several separated by commas), like status=failing`;

/** One value or the same parameter repeated (?status=a&status=b), as fastify's parser gives them. */
const oneOrMore = z.union([z.string(), z.array(z.string())]).transform((value) => (Array.isArray(value) ? value : [value]));

export const listQuery = z.strictObject(
  {
    limit: z
      .string({ error: `expected one whole number from 1 to ${MAX_PAGE_SIZE}, like limit=${PAGE_SIZE}` })
      .regex(/^\d+$/, `expected a whole number from 1 to ${MAX_PAGE_SIZE}, like limit=${PAGE_SIZE}`)
      .transform(Number)
      .pipe(
        z
          .number()
          .min(1, `expected a whole number from 1 to ${MAX_PAGE_SIZE}, like limit=${PAGE_SIZE}`)
          .max(MAX_PAGE_SIZE, `at most ${MAX_PAGE_SIZE} checks a page; follow next for the rest`),
      )
      .optional(),
    cursor: z
      .string({ error: "expected one cursor: the previous answer's next" })
      .transform((cursor, ctx) => {
        const name = decodeCursor(cursor);
        if (name === undefined) ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave out: pass the previous answer\'s next unchanged' });
        return name ?? '';
      })
      .optional(),
    status: oneOrMore
      .transform((values) => values.flatMap((value) => value.split(',')))
      .pipe(z.array(z.enum(CHECK_STATUSES, { error: STATUS_HINT })))
      .optional(),
    name: z.string({ error: 'expected one name prefix, like name=hub-' }).min(1, 'expected a name prefix, like name=hub-').optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')} (accepted: ${ACCEPTED})` : undefined) },
);

export type ListQuery = z.infer<typeof listQuery>;

/** One problem a line, named by parameter: `limit: at most 1000 checks a page; ...`. */
export function describeQueryProblems(error: z.ZodError): string {
  return error.issues.map((issue) => `${String(issue.path[0] ?? 'query')}: ${issue.message}`).join('; ');
}

export interface CheckPage {
  entries: CheckEntry[];
  /** Checks that match the filters, on every page. */
  total: number;
  /** The cursor of the next page; absent on the last one. */
  next?: string;
}

/**
 * One page of the checks that match, in name order, after the cursor's name. Continuing after a
 * name (not at an offset) keeps paging exact while checks are added or removed: every check that
 * exists throughout is seen once, wherever the others come and go.
 */
export function pageOfChecks(byName: readonly CheckEntry[], query: ListQuery): CheckPage {
  const limit = query.limit ?? PAGE_SIZE;
  const wanted: ReadonlySet<CheckStatus> | undefined = query.status && new Set(query.status);
  const { cursor: after, name: prefix } = query;
  const entries: CheckEntry[] = [];
  let total = 0;
  let more = false;
  for (let i = prefix === undefined ? 0 : firstAtOrAfter(byName, prefix); i < byName.length; i++) {
    const entry = byName[i];
    if (entry === undefined) break;
    const name = entry.check.spec.name;
    if (prefix !== undefined && !name.startsWith(prefix)) break;
    if (wanted && !wanted.has(checkStatus(entry))) continue;
    total += 1;
    if (after !== undefined && name <= after) continue;
    if (entries.length < limit) entries.push(entry);
    else more = true;
  }
  const last = entries.at(-1);
  return { entries, total, ...(more && last && { next: encodeCursor(last.check.spec.name) }) };
}
