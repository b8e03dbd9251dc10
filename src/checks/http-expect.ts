import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { duration, formatDuration } from '../config/duration.js';
import type { ReleaseExpander, ReleaseField } from '../config/release.js';
import { formatIssuer } from '../net/certificate.js';
import type { HttpResponse } from '../net/http-request.js';
import type { Failure } from '../results/result.js';
import { matchFields, protocolProblems, type HeaderExpectation } from './http-match.js';

// What an http check (and the ingress check, which shares them) may expect of a response, how
// a response is judged against it, and which of those values may hold {release}.

/** A status code (401) or a class ("2xx"); shared with the ingress check. */
export const statusPattern = z.union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/, 'expected a status code or a class from 1xx to 5xx')]);
export const statusList = z.union([statusPattern.transform((s) => [s]), z.array(statusPattern).min(1)]);
export type StatusPattern = z.infer<typeof statusPattern>;

const JSON_PATH = /^(?:[^.[\]\s]+|\[\d+\])(?:\.[^.[\]\s]+|\[\d+\])*$/;
const jsonPath = z.string().regex(JSON_PATH, 'expected a path like info.version or items[0].name');

/** The response expectations; shared with the ingress check. */
export const expectSchema = z.strictObject({
  status: statusList.default(['2xx']).meta({ description: 'accepted status codes and classes (default [2xx])' }),
  bodyContains: z.union([z.string().transform((s) => [s]), z.array(z.string())]).optional(),
  json: z.record(jsonPath, z.json()).optional().meta({ description: 'path (info.version, items[0].name) -> expected value' }),
  ...matchFields,
  maxDuration: duration.optional().meta({ description: 'the whole exchange must take at most this long' }),
  certMinDaysValid: z.number().min(0).optional().meta({ description: 'https: the certificate must stay valid this many more days' }),
});
export type HttpExpect = z.infer<typeof expectSchema>;

export function matchesStatus(patterns: readonly StatusPattern[], status: number): boolean {
  return patterns.some((p) => (typeof p === 'number' ? p === status : p[0] === String(status)[0]));
}

export function checkStatus(patterns: readonly StatusPattern[], response: HttpResponse): Failure | undefined {
  if (matchesStatus(patterns, response.status)) return undefined;
  const after = response.redirects > 0 ? ` after ${response.redirects} redirect${response.redirects > 1 ? 's' : ''}` : '';
  return { reason: 'status', message: `status ${response.status}${after}, expected ${patterns.join(' or ')}` };
}

/**
 * Every failed expectation, in one message, so one run says all that is wrong; `patterns` are
 * the body and header pattern problems (patternProblems), matched beforehand because long bodies
 * are matched off the event loop.
 */
export function checkExpectations(expect: HttpExpect, response: HttpResponse, patterns: readonly string[]): Failure | undefined {
  const problems: string[] = [];
  for (const text of expect.bodyContains ?? []) {
    if (!response.body.includes(text)) problems.push(`body does not contain ${JSON.stringify(text)} (${response.bodyBytes} bytes)`);
  }
  problems.push(...patterns);
  if (expect.json) problems.push(...checkJson(expect.json, response));
  if (expect.maxDuration !== undefined && response.totalMs > expect.maxDuration) {
    problems.push(`took ${Math.round(response.totalMs)}ms, expected at most ${formatDuration(expect.maxDuration)}`);
  }
  if (expect.certMinDaysValid !== undefined) {
    const cert = response.tls?.certificate;
    if (!cert) problems.push(`no certificate (final URL ${response.url}), expected one valid ${expect.certMinDaysValid} more days`);
    else if (cert.daysLeft < expect.certMinDaysValid) {
      problems.push(`certificate (${formatIssuer(cert)}) valid ${cert.daysLeft} more days (until ${cert.validTo}), expected at least ${expect.certMinDaysValid}`);
    }
  }
  problems.push(...protocolProblems(expect, response));
  return problems.length > 0 ? { reason: 'assertion', message: problems.join('; ') } : undefined;
}

function checkJson(expected: Record<string, unknown>, response: HttpResponse): string[] {
  let document: unknown;
  try {
    document = JSON.parse(response.body);
  } catch {
    const type = response.headers['content-type'] ?? 'no content-type';
    return [`body is not JSON (${type}), expected values at ${Object.keys(expected).join(', ')}`];
  }
  const problems: string[] = [];
  for (const [path, wanted] of Object.entries(expected)) {
    const found = readPath(document, path);
    if (!found.present) problems.push(`json ${path} is missing, expected ${JSON.stringify(wanted)}`);
    else if (!isDeepStrictEqual(found.value, wanted)) problems.push(`json ${path} is ${JSON.stringify(found.value)}, expected ${JSON.stringify(wanted)}`);
  }
  return problems;
}

/** Follows `info.version` / `items[0].name` through parsed JSON. */
export function readPath(document: unknown, path: string): { present: boolean; value?: unknown } {
  let current = document;
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (index !== undefined) {
      if (!Array.isArray(current) || Number(index) >= current.length) return { present: false };
      current = current[Number(index)] as unknown;
    } else if (key !== undefined && current !== null && typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else {
      return { present: false };
    }
  }
  return { present: true, value: current };
}

/**
 * The response expectations of http and ingress: body texts, the body patterns (both ways), json
 * values at any depth, header values and patterns. Keys (json paths, header names) are never expanded.
 */
export function walkExpectations(expect: HttpExpect, expand: ReleaseExpander): HttpExpect {
  const at = ['expect'];
  const patterns = (list: readonly string[], key: string) => list.map((text, i) => expand(text, [...at, key, i], 'pattern'));
  return {
    ...expect,
    ...(expect.bodyContains && { bodyContains: expect.bodyContains.map((text, i) => expand(text, [...at, 'bodyContains', i], 'text')) }),
    ...(expect.bodyMatches && { bodyMatches: patterns(expect.bodyMatches, 'bodyMatches') }),
    ...(expect.bodyNotMatches && { bodyNotMatches: patterns(expect.bodyNotMatches, 'bodyNotMatches') }),
    ...(expect.json && { json: Object.fromEntries(Object.entries(expect.json).map(([path, value]) => [path, walkJson(value, [...at, 'json', path], expand)])) }),
    ...(expect.headers && {
      headers: Object.fromEntries(
        Object.entries(expect.headers).map(([name, wanted]): [string, HeaderExpectation] => {
          const where = [...at, 'headers', name];
          if (typeof wanted === 'string') return [name, expand(wanted, where, 'text')];
          return [
            name,
            {
              ...wanted,
              ...(wanted.matches !== undefined && { matches: expand(wanted.matches, [...where, 'matches'], 'pattern') }),
              ...(wanted.notMatches !== undefined && { notMatches: expand(wanted.notMatches, [...where, 'notMatches'], 'pattern') }),
            },
          ];
        }),
      ),
    }),
  };
}

type JsonValue = z.infer<ReturnType<typeof z.json>>;

function walkJson(value: JsonValue, where: ReleaseField, expand: ReleaseExpander): JsonValue {
  if (typeof value === 'string') return expand(value, where, 'text');
  if (Array.isArray(value)) return value.map((item, i) => walkJson(item, [...where, i], expand));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walkJson(item, [...where, key], expand)]));
  return value;
}
