/**
 * A misbehaving API server, or a proxy or webhook in front of one, for the stand-in (kube-api.ts
 * `rewrite`): answers that echo the credentials a request presented, and objects of another kind
 * than their path says. Each rewrite applies to the paths it names and leaves every other answer
 * as it was.
 */
import { status, type Answer, type Rewrite } from './kube-api.js';

/**
 * A 500 or 429 Status at `path` whose message quotes the request's Authorization credentials (and
 * `extra`, such as a client key the test knows), as an aggregated API server or an authenticating
 * proxy that logs the request into its error does. With `tokenAt`, the 500's message is filler
 * up to that character and the token from there (to straddle a client's cut).
 */
export function echoCredentialsInStatus(path: string, code: 500 | 429, options: { extra?: string; tokenAt?: number } = {}): Rewrite {
  return (answer, request) => {
    if (request.path !== path) return answer;
    if (options.tokenAt !== undefined) return status(code, 'InternalError', `${'w'.repeat(options.tokenAt)}${request.token} was refused`);
    const echoed = `request GET ${path} with header "Authorization: Bearer ${request.token}" ${options.extra ?? ''}`;
    return code === 429
      ? status(429, 'TooManyRequests', `Too many requests from ${request.token}, please try again later (${echoed})`, { retryAfterSeconds: 1 })
      : status(500, 'InternalError', `Internal error occurred: admission webhook failed: ${echoed}`, { causes: [{ message: echoed }] });
  };
}

/** Secrets at `path` gain a key named after the presented token (a mutating webhook gone wrong). */
export function echoTokenInSecretKeys(path: string): Rewrite {
  return (answer, request) => {
    if (request.path !== path || answer.code !== 200 || typeof answer.body !== 'object' || Buffer.isBuffer(answer.body)) return answer;
    const data: unknown = Reflect.get(answer.body, 'data');
    const keys = typeof data === 'object' && data !== null ? Object.entries(data) : [];
    const leak = `leak.${request.token.replace(/[^-._a-zA-Z0-9]/g, '-')}`;
    return { code: 200, body: { ...answer.body, data: Object.fromEntries([...keys, [leak, 'eA==']]) } };
  };
}

/**
 * `object` served at `path` whatever is stored there: a Service where a Deployment is expected, or
 * a huge object. It is serialised once, and sent in pieces, so serving megabytes again and
 * again costs the test process (which also times the daemon) little.
 */
export function serveAt(path: string, object: object): Rewrite {
  const json = Buffer.from(JSON.stringify(object));
  return (answer, request) => (request.path === path ? { code: 200, body: json } : answer);
}

/** The rewrites applied one after another. */
export function rewrites(...list: Rewrite[]): Rewrite {
  return (answer: Answer, request) => list.reduce((current, rewrite) => rewrite(current, request), answer);
}
