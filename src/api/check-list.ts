import { z } from 'zod';
import type { CheckEntry } from './served-daemon.js';
import { CHECK_STATUSES, checkStatus, type CheckStatus } from './check-view.js';
import { decodeCursor, encodeCursor, firstWhere } from './check-index.js';

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
 * exists throughout is seen once, wherever the others come and go. Names bound the work by binary
 * search; only a status filter reads every check in range (it counts them for `total`).
 */
export function pageOfChecks(byName: readonly CheckEntry[], query: ListQuery): CheckPage {
  const limit = query.limit ?? PAGE_SIZE;
  const { cursor: after, name: prefix } = query;
  // A prefix's names are one run in name order: from the first at or after it to the first past it.
  const from = prefix === undefined ? 0 : firstWhere(byName, (name) => name >= prefix);
  const to = prefix === undefined ? byName.length : firstWhere(byName, (name) => name >= prefix && !name.startsWith(prefix));
  const start = after === undefined ? from : Math.max(from, firstWhere(byName, (name) => name > after));
  if (query.status === undefined) {
    const entries = byName.slice(start, Math.min(to, start + limit));
    return withNext({ entries, total: to - from }, start + limit < to);
  }
  const wanted: ReadonlySet<CheckStatus> = new Set(query.status);
  const entries: CheckEntry[] = [];
  let total = 0;
  let more = false;
  for (let i = from; i < to; i++) {
    const entry = byName[i];
    if (entry === undefined || !wanted.has(checkStatus(entry))) continue;
    total += 1;
    if (i < start) continue;
    if (entries.length < limit) entries.push(entry);
    else more = true;
  }
  return withNext({ entries, total }, more);
}

function withNext(page: CheckPage, more: boolean): CheckPage {
  const last = page.entries.at(-1);
  return more && last ? { ...page, next: encodeCursor(last.check.spec.name) } : page;
}
