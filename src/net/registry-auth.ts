import { z } from 'zod';
import { CheckFailure } from '../results/result.js';

/**
 * The Docker Registry v2 authentication handshake (distribution's docs/spec/auth/token.md): a
 * 401 carries `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (or `Basic
 * realm="..."`); for Bearer the client asks the realm for a token with HTTP basic credentials
 * (none for anonymous pulls) and retries with `Authorization: Bearer TOKEN`.
 */

export interface Challenge {
  /** Lower case: bearer, basic. */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * The challenges of a WWW-Authenticate header (RFC 9110 11.6.1): several may stand in one
 * header, separated by commas like their parameters; a parameter value may be quoted.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  const skip = (chars: RegExp) => {
    while (at < header.length && chars.test(header.charAt(at))) at++;
  };
  const token = () => {
    const start = at;
    while (at < header.length && TOKEN_CHAR.test(header.charAt(at))) at++;
    return header.slice(start, at);
  };
  while (at < header.length) {
    skip(/[\s,]/);
    const word = token();
    if (word === '') break;
    skip(/\s/);
    if (header.charAt(at) !== '=') {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
      continue;
    }
    at++;
    skip(/\s/);
    const value = header.charAt(at) === '"' ? quoted() : token();
    const current = challenges.at(-1);
    if (current) current.params[word.toLowerCase()] = value;
  }
  return challenges;

  function quoted(): string {
    let value = '';
    for (at++; at < header.length && header.charAt(at) !== '"'; at++) {
      if (header.charAt(at) === '\\') at++;
      value += header.charAt(at);
    }
    at++;
    return value;
  }
}

/** The challenge to answer: Bearer before Basic, as Docker's client prefers it. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
}

/** The distribution token server's answer; `access_token` is the OAuth2 spelling of the same. */
const tokenAnswer = z.object({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
});

/** A token is put into a header: it must be one visible-ASCII word. */
const HEADER_WORD = /^[\x21-\x7e]+$/;

/**
 * The token from a token server's JSON answer; never shown in any message. Every token string
 * the answer holds is handed to `redact` first, usable or not: a registry that echoes it back
 * (into a header, an error body) must not get it into a result.
 */
export function readToken(body: string, realm: string, redact: (value: string) => void): { token: string; expiresIn: number | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CheckFailure('error', `token server ${realm} answered something that is not JSON`);
  }
  const parsed = tokenAnswer.safeParse(json);
  for (const value of [parsed.data?.token, parsed.data?.access_token]) if (value !== undefined && value !== '') redact(value);
  const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
  if (token === undefined || !HEADER_WORD.test(token)) throw new CheckFailure('error', `token server ${realm} answered without a usable token`);
  return { token, expiresIn: parsed.data?.expires_in };
}

/** The realm URL with service and scope, as the token spec asks for them. */
export function tokenUrl(challenge: Challenge, scope: string): URL {
  const realm = challenge.params.realm ?? '';
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new CheckFailure('error', `the registry named a token realm that is not a URL: ${JSON.stringify(realm.slice(0, 200))}`);
  }
  // Credentials are never sent in clear, whatever realm a registry names.
  if (url.protocol !== 'https:') throw new CheckFailure('auth', `the registry's token realm ${quoteHeader(url.origin)} is not HTTPS: credentials are not sent to it`);
  if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', scope);
  return url;
}

/**
 * The error codes of the registry API (the OCI distribution spec and distribution's errcode and
 * v2 registers): the only ones a message quotes. A registry may put anything into "code", the
 * token it was sent included (one of another run, which this run cannot know to scrub).
 */
const ERROR_CODES = new Set([
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'TAG_INVALID', 'PAGINATION_NUMBER_INVALID',
  'RANGE_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS', 'UNKNOWN', 'UNAVAILABLE',
]);

/** Error codes of a registry or token server error body ({"errors":[{"code":"UNAUTHORIZED",...}]}), known ones only; never their free text. */
export function errorCodes(body: string): string[] {
  try {
    const parsed = z.object({ errors: z.array(z.object({ code: z.string() })) }).safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.errors.map((e) => e.code).filter((code) => ERROR_CODES.has(code)).slice(0, 3) : [];
  } catch {
    return [];
  }
}

/** Most header text a result quotes: a registry may put anything (up to Node's 16 KiB of headers) into one. */
export const MAX_QUOTED_HEADER = 200;

/** Header text as a message or observation quotes it: at most MAX_QUOTED_HEADER characters, saying how much was left out. */
export function quoteHeader(text: string): string {
  return text.length <= MAX_QUOTED_HEADER ? text : `${text.slice(0, MAX_QUOTED_HEADER)}... (${text.length - MAX_QUOTED_HEADER} more characters)`;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
