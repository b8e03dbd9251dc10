import { z } from 'zod';
import { CheckFailure } from '../result.js';

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

/** The token from a token server's JSON answer; never shown in any message. */
export function readToken(body: string, realm: string): { token: string; expiresIn: number | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CheckFailure('error', `token server ${realm} answered something that is not JSON`);
  }
  const parsed = tokenAnswer.safeParse(json);
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
  if (url.protocol !== 'https:') throw new CheckFailure('auth', `the registry's token realm ${url.origin} is not HTTPS: credentials are not sent to it`);
  if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', scope);
  return url;
}

/** Error codes of a registry or token server error body ({"errors":[{"code":"UNAUTHORIZED",...}]}); never their free text. */
export function errorCodes(body: string): string[] {
  try {
    const parsed = z.object({ errors: z.array(z.object({ code: z.string().regex(/^[A-Z_]{1,64}$/) })) }).safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.errors.map((e) => e.code).slice(0, 3) : [];
  } catch {
    return [];
  }
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
