import { createHash } from 'node:crypto';
import { classifyError } from '../results/classify.js';
import { CheckFailure } from '../results/result.js';
import { httpRequest, HttpRequestError, type HttpResponse } from './http-request.js';
import { basicAuthorization, errorCodes, parseChallenges, pickChallenge, quoteHeader, readToken, tokenUrl, type Challenge } from './registry-auth.js';
import { mayReceiveCredentials } from './registry-realm.js';
import { formatRegistryReference, type RegistryReference } from './registry-reference.js';

/** What a multi-platform index or a single image manifest is served as; the registry picks by Accept. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** distribution refuses manifests over 4 MiB; nothing bigger is a manifest. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST = /^(sha256|sha512):([0-9a-f]{64}|[0-9a-f]{128})$/;

/** Already revealed (the caller read the secret references); never shown or traced. */
export type RegistryCredentials = { username: string; password: string } | { token: string } | undefined;

export interface ManifestQuery {
  image: RegistryReference;
  credentials: RegistryCredentials;
  /** PEM file to trust instead of the system roots, for the registry and its token realm. */
  ca?: string | undefined;
  /** Dial this IP for the registry's host name (and a token realm on the same host). */
  resolve?: string | undefined;
  /** Origins besides the registry's own that may receive the basic credentials as its token realm (registry-realm.ts). */
  realmAllow?: readonly string[] | undefined;
  /** Told every credential built or received here (the Basic header, each token), for the runner to scrub from the result. */
  redact: (value: string) => void;
  signal: AbortSignal;
  trace: (step: string, data?: Record<string, unknown>) => void;
}

export interface ManifestAnswer {
  digest: string;
  mediaType: string | undefined;
  /** How the registry was authenticated to. */
  auth: 'anonymous' | 'basic' | 'bearer' | 'token';
  /** The scope a bearer token was asked for (as quoted: at most 200 characters). */
  scope?: string;
  /** The Docker-Content-Digest header was checked against the manifest's own hash (a GET, not a HEAD). */
  verified: boolean;
}

/**
 * The digest a registry serves for a tag (or a digest), on fresh connections: HEAD the manifest,
 * answer a 401's challenge once (a token from the realm with the pull scope, or basic
 * credentials), HEAD again. HEAD is what `docker pull` and `crane digest` send first and what
 * Docker Hub does not count as a pull; a registry that answers HEAD without Docker-Content-Digest
 * gets a GET and the digest is the body's hash. Tokens are asked for on every run (no cache):
 * the runbook's failure is a credential that stopped working, which a cached token would hide.
 * Failures throw CheckFailure: auth (credentials or token refused), assertion (tag not found),
 * status, and connect/tls/timeout/dns for a registry that cannot be reached.
 */
export async function resolveManifest(query: ManifestQuery): Promise<ManifestAnswer> {
  const { image, credentials } = query;
  const url = `https://${image.registry}/v2/${image.repository}/manifests/${image.reference}`;
  const accept = MANIFEST_TYPES.join(', ');
  // Registered before anything is sent: a registry may echo them into any header or body, in
  // this run or (remembered) a later one, also when this run fails before using them.
  const basic = credentials && 'username' in credentials ? basicAuthorization(credentials.username, credentials.password) : undefined;
  if (credentials && 'username' in credentials) query.redact(credentials.password);
  if (basic !== undefined) query.redact(basic);
  if (credentials && 'token' in credentials) query.redact(credentials.token);
  let auth: ManifestAnswer['auth'] = credentials && 'token' in credentials ? 'token' : 'anonymous';
  let authorization = credentials && 'token' in credentials ? `Bearer ${credentials.token}` : undefined;
  let scope: string | undefined;
  let response = await send(query, 'registry', url, 'HEAD', { accept, ...(authorization && { authorization }) });
  if (response.status === 401 && auth !== 'token') {
    const challenge = pickChallenge(parseChallenges(response.headers['www-authenticate'] ?? ''));
    if (!challenge) throw new CheckFailure('auth', `registry ${image.registry} answered 401 without a Bearer or Basic challenge`);
    const quoted = (name: string) => (challenge.params[name] === undefined ? undefined : quoteHeader(challenge.params[name]));
    query.trace('registry challenge', { scheme: challenge.scheme, realm: quoted('realm'), service: quoted('service'), scope: quoted('scope') });
    if (challenge.scheme === 'basic') {
      if (basic === undefined) throw new CheckFailure('auth', `registry ${image.registry} requires credentials (401, Basic realm "${quoted('realm') ?? ''}"): give username and password`);
      [auth, authorization] = ['basic', basic];
    } else {
      const asked = challenge.params.scope ?? `repository:${image.repository}:pull`;
      scope = quoteHeader(asked);
      [auth, authorization] = ['bearer', `Bearer ${await fetchToken(query, challenge, asked, basic)}`];
    }
    response = await send(query, 'registry', url, 'HEAD', { accept, authorization });
  }
  judgeStatus(query, response, auth, scope);
  let digest = response.headers['docker-content-digest'];
  let verified = false;
  if (digest === undefined) {
    // Registries that leave the header off HEAD answers: take the manifest and hash it.
    response = await send(query, 'registry', url, 'GET', { accept, ...(authorization && { authorization }) });
    judgeStatus(query, response, auth, scope);
    digest = verifyDigest(response, image.registry);
    verified = true;
  }
  if (!DIGEST.test(digest)) throw new CheckFailure('error', `registry ${image.registry} sent a malformed Docker-Content-Digest ${JSON.stringify(digest.slice(0, 140))}`);
  const contentType = response.headers['content-type']?.split(';')[0]?.trim();
  const mediaType = contentType === undefined ? undefined : quoteHeader(contentType);
  query.trace('manifest', { digest, mediaType, auth, verified });
  return { digest, mediaType, auth, ...(scope !== undefined && { scope }), verified };
}

/**
 * Asks the realm for a token: with the basic credentials (`basic`) when the check has them and
 * the realm may receive them (registry-realm.ts), anonymously when it has none.
 */
async function fetchToken(query: ManifestQuery, challenge: Challenge, scope: string, basic: string | undefined): Promise<string> {
  const { credentials } = query;
  const url = tokenUrl(challenge, scope);
  const realm = quoteHeader(url.origin + url.pathname);
  const user = credentials && 'username' in credentials ? credentials.username : undefined;
  if (basic !== undefined && !mayReceiveCredentials(url, query.image.registry, query.realmAllow)) {
    const origin = quoteHeader(url.origin);
    throw new CheckFailure('auth', `registry ${query.image.registry} named the token realm ${origin}, which is neither its own origin nor in realmAllow: username and password were not sent there (add "${origin}" to realmAllow if that is the registry's token server)`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (basic !== undefined) headers.authorization = basic;
  const response = await send(query, 'token server', url.href, 'GET', headers);
  if (response.status === 401 || response.status === 403) {
    const who = user === undefined ? 'anonymous access' : `the credentials of user ${user}`;
    throw new CheckFailure('auth', `token server ${realm} refused ${who} (${describeStatus(response)})`);
  }
  if (response.status !== 200) throw new CheckFailure('status', `token server ${realm} answered ${describeStatus(response)}, expected 200`);
  const { token, expiresIn } = readToken(response.body, realm, query.redact);
  query.trace('registry token', { realm, scope: quoteHeader(scope), user, expiresIn });
  return token;
}

function judgeStatus(query: ManifestQuery, response: HttpResponse, auth: ManifestAnswer['auth'], scope: string | undefined): void {
  const { image } = query;
  const where = `${image.registry}/${image.repository}`;
  const status = describeStatus(response);
  if (response.status === 200) return;
  if (response.status === 401 || response.status === 403) {
    const { credentials } = query;
    const user = credentials && 'username' in credentials ? `user ${credentials.username}` : undefined;
    switch (auth) {
      case 'basic':
        throw new CheckFailure('auth', `registry ${image.registry} refused the credentials of ${user ?? 'the check'} (${status})`);
      case 'bearer':
        throw new CheckFailure('auth', `registry ${image.registry} refused the token for ${scope ?? 'its scope'} (${status}): ${user ?? 'anonymous access'} may not pull ${where}`);
      case 'token':
        throw new CheckFailure('auth', `registry ${image.registry} refused the bearer token (${status})`);
      case 'anonymous':
        throw new CheckFailure('auth', `registry ${image.registry} refused anonymous access to ${where} (${status})`);
    }
  }
  if (response.status === 404) {
    const what = image.digest === undefined ? `tag ${image.reference}` : `manifest ${image.reference}`;
    throw new CheckFailure('assertion', `${what} not found in ${where} (${status})`);
  }
  throw new CheckFailure('status', `registry ${image.registry} answered ${status} for ${formatRegistryReference(image)}, expected 200`);
}

/** The body's own digest, which a Docker-Content-Digest header sent with it must equal. */
function verifyDigest(response: HttpResponse, registry: string): string {
  const header = response.headers['docker-content-digest'];
  const algorithm = header !== undefined && DIGEST.test(header) ? (header.split(':')[0] ?? 'sha256') : 'sha256';
  // Manifests are JSON, UTF-8 by the spec; httpRequest hands the body over decoded as UTF-8.
  const own = `${algorithm}:${createHash(algorithm).update(Buffer.from(response.body, 'utf8')).digest('hex')}`;
  if (header !== undefined && header !== own) {
    throw new CheckFailure('assertion', `registry ${registry} says the manifest is ${header}, but its body hashes to ${own}`);
  }
  return own;
}

function describeStatus(response: HttpResponse): string {
  const codes = errorCodes(response.body);
  return codes.length > 0 ? `${response.status} ${codes.join(', ')}` : String(response.status);
}

/** One request on a fresh connection; a transport failure names the party that could not be reached. */
async function send(query: ManifestQuery, party: string, url: string, method: string, headers: Record<string, string>): Promise<HttpResponse> {
  const target = new URL(url);
  const registryHost = new URL(`https://${query.image.registry}`).hostname;
  try {
    return await httpRequest({
      url,
      method,
      headers,
      // resolve pins the registry's own name; a realm elsewhere is dialled by its own name.
      ...(query.resolve !== undefined && target.hostname === registryHost && { resolve: query.resolve }),
      ca: query.ca,
      maxBodyBytes: MAX_MANIFEST_BYTES,
      signal: query.signal,
      trace: query.trace,
    });
  } catch (err) {
    if (!(err instanceof HttpRequestError)) throw err;
    const failure = classifyError(err);
    throw new CheckFailure(failure.reason, `${party} ${target.host}: ${failure.message}`);
  }
}
