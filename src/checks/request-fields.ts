import { z } from 'zod';
import { isCredentialHeader, resolveValue, secretRef, type Secret } from '../config/secret.js';
import { MAX_BODY_BYTES } from '../net/http-request.js';
import { CheckFailure } from '../results/result.js';

/**
 * The request fields the http, ingress and openapi checks share: the URL, the headers (secret
 * references required for credentials, values node:http can send) and the body cap. What each
 * refuses and why: docs/security.md.
 */

/**
 * The URL a refinement of an http(s) URL looks at, or undefined for text that is not one. zod
 * runs a schema's refinements even after its URL check failed (that issue lets parsing go on),
 * so a refinement must not assume a URL: the failed check has already said what is wrong.
 */
export function urlOf(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** An http(s) URL without userinfo; shared with the ingress and openapi checks. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).refine(
  (url) => {
    const parsed = urlOf(url);
    return parsed === undefined || (parsed.username === '' && parsed.password === '');
  },
  { error: 'the URL holds credentials (user:password@), which would be shown and are not sent: give them in headers as a secret reference, e.g. Authorization: { env: NAME }' },
);

const headerValue = z.union([z.string(), secretRef], { error: 'expected a string or a secret reference ({ env: NAME } or { file: /path })' });

/**
 * Request header name -> value or secret reference (required for credentials, unless
 * `inlineCredential` accepts the text: a flow's `Bearer {captures.token}`).
 */
export function headerMap(inlineCredential: (value: string) => boolean = () => false) {
  return z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'), headerValue)
    .superRefine((headers, ctx) => {
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value === 'string' && isCredentialHeader(name) && !inlineCredential(value)) {
          ctx.addIssue({ code: 'custom', path: [name], message: `${name} carries a credential: write it as a secret reference, { env: NAME } or { file: /path }, never inline` });
        } else if (typeof value === 'string' && !isHeaderValue(value)) {
          ctx.addIssue({ code: 'custom', path: [name], message: HEADER_VALUE_RULE });
        }
      }
    })
    .default({});
}

/** Request header name -> value or secret reference (required for credentials); shared with the ingress and openapi checks. */
export const requestHeaders = headerMap();

/** The body cap of a check that reads a response; shared with the ingress and openapi checks. */
export function maxBodyBytes(fallback: number) {
  return z
    .number()
    .int()
    .positive()
    .max(MAX_BODY_BYTES, { error: `at most ${MAX_BODY_BYTES} (64 MiB): the body is held in memory` })
    .default(fallback)
    .meta({ description: `bytes of the response body read at most (a longer body fails the check); at most ${MAX_BODY_BYTES}` });
}

const HEADER_VALUE_RULE = 'a header value holds only visible characters, spaces and tabs (no CR, LF or other control characters)';
/** What node:http sends as a header value (anything else throws ERR_INVALID_CHAR): a CR or LF would split the request. */
function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

/**
 * Header values with secrets revealed, for the request only (never for observations or traces).
 * A revealed value node:http cannot send is a configuration problem named without the value.
 */
export async function resolveHeaders(headers: Readonly<Record<string, string | Secret>>): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const text = await resolveValue(value);
    if (typeof value !== 'string' && !isHeaderValue(text)) throw new CheckFailure('config', `header ${name}: the secret from ${value.source} cannot be sent: ${HEADER_VALUE_RULE}`);
    resolved[name] = text;
  }
  return resolved;
}
