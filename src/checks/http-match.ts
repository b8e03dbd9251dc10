import { z } from 'zod';
import type { HttpResponse } from '../net/http-request.js';
import { matchesPattern, matchPatterns, regex } from './pattern.js';

export { regex } from './pattern.js';

/*
 * The expectations an http response is matched against by pattern, both ways (the body and
 * header regexes of blackbox_exporter's http prober: fail_if_body_matches_regexp and friends), and
 * by protocol (fail_if_ssl / fail_if_not_ssl, valid_http_versions). A failed pattern is what
 * blackbox's probe_failed_due_to_regex reports.
 */

/** One pattern or several; every one must hold. A bad pattern is reported as itself, not as "invalid input". */
export const patternList = z.union([regex.transform((s) => [s]), z.array(regex).min(1)], {
  error: (issue) => {
    const branches = 'errors' in issue ? issue.errors : [];
    const [one = [], many = []] = branches;
    const inner = typeof issue.input === 'string' ? one[0] : Array.isArray(issue.input) ? many[0] : undefined;
    if (inner === undefined) return 'expected a regular expression or a list of them';
    return inner.path.length > 0 ? `[${inner.path.join('.')}]: ${inner.message}` : inner.message;
  },
});

export const headerExpectation = z.union(
  [
    z.string(),
    z
      .strictObject({
        matches: regex.optional().meta({ description: 'the value must match' }),
        notMatches: regex.optional().meta({ description: 'the value must not match' }),
        allowMissing: z.boolean().default(false).meta({ description: 'a missing header passes (default false: it fails)' }),
      })
      .refine((h) => h.matches !== undefined || h.notMatches !== undefined, { error: 'expected matches or notMatches (or both)' }),
  ],
  { error: 'expected a value, or { matches, notMatches, allowMissing }' },
);
export type HeaderExpectation = z.infer<typeof headerExpectation>;

export const HTTP_VERSIONS = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0'] as const;

/** The keys of an http check's `expect` that this file owns. */
export const matchFields = {
  bodyMatches: patternList.optional().meta({ description: 'regular expression(s) the body must match, every one' }),
  bodyNotMatches: patternList.optional().meta({ description: 'regular expression(s) the body must not match, any one fails' }),
  headers: z.record(z.string().min(1), headerExpectation).optional().meta({ description: 'header name -> exact value or { matches, notMatches, allowMissing }' }),
  https: z.boolean().optional().meta({ description: 'true: the final response must come over https; false: must not (blackbox fail_if_not_ssl / fail_if_ssl)' }),
  httpVersions: z.array(z.enum(HTTP_VERSIONS)).min(1).optional().meta({ description: 'accepted HTTP versions of the response (HTTP/1.1 is what driftwatch speaks)' }),
};

interface MatchExpect {
  bodyMatches?: string[] | undefined;
  bodyNotMatches?: string[] | undefined;
  headers?: Record<string, HeaderExpectation> | undefined;
}

/**
 * Body and header pattern problems, each saying what was expected and what came. The body is
 * matched off the event loop when it is long (see matchPatterns); header values are short.
 */
export async function patternProblems(expect: MatchExpect, response: Pick<HttpResponse, 'body' | 'bodyBytes' | 'headers'>, signal: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  const must = expect.bodyMatches ?? [];
  const mustNot = expect.bodyNotMatches ?? [];
  const hits = await matchPatterns([...must, ...mustNot], response.body, signal);
  must.forEach((pattern, i) => {
    if (hits[i] !== true) problems.push(`body does not match /${pattern}/ (${response.bodyBytes} bytes)`);
  });
  mustNot.forEach((pattern, i) => {
    if (hits[must.length + i] === true) problems.push(`body matches /${pattern}/, expected it not to (${response.bodyBytes} bytes)`);
  });
  for (const [name, wanted] of Object.entries(expect.headers ?? {})) {
    const actual = response.headers[name.toLowerCase()];
    if (typeof wanted === 'string') {
      if (actual === undefined) problems.push(`header ${name} is missing, expected ${JSON.stringify(wanted)}`);
      else if (actual !== wanted) problems.push(`header ${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
      continue;
    }
    if (actual === undefined) {
      if (!wanted.allowMissing) problems.push(`header ${name} is missing, expected ${describeHeader(wanted)}`);
      continue;
    }
    const fails = (wanted.matches !== undefined && !matchesPattern(wanted.matches, actual)) || (wanted.notMatches !== undefined && matchesPattern(wanted.notMatches, actual));
    if (fails) problems.push(`header ${name} is ${JSON.stringify(actual)}, expected ${describeHeader(wanted)}`);
  }
  return problems;
}

function describeHeader(wanted: Exclude<HeaderExpectation, string>): string {
  const parts = [...(wanted.matches === undefined ? [] : [`to match /${wanted.matches}/`]), ...(wanted.notMatches === undefined ? [] : [`not to match /${wanted.notMatches}/`])];
  return parts.join(' and ');
}

/** https and httpVersions problems of the final response. */
export function protocolProblems(expect: { https?: boolean | undefined; httpVersions?: readonly string[] | undefined }, response: Pick<HttpResponse, 'url' | 'httpVersion'>): string[] {
  const problems: string[] = [];
  const overTls = response.url.startsWith('https:');
  if (expect.https === true && !overTls) problems.push(`final response came over plain http (${response.url}), expected https`);
  if (expect.https === false && overTls) problems.push(`final response came over https (${response.url}), expected plain http`);
  const version = `HTTP/${response.httpVersion === '2' ? '2.0' : response.httpVersion}`;
  if (expect.httpVersions && !expect.httpVersions.includes(version)) problems.push(`response is ${version}, expected ${expect.httpVersions.join(' or ')}`);
  return problems;
}
