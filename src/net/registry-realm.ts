/**
 * Which token realms may receive an oci-image check's username and password. A registry's 401
 * names the realm its clients ask for a token, and Docker sends the basic credentials to any
 * HTTPS realm named there, another host included: whoever answers in the registry's name (a
 * compromised or impostor registry, a proxy) can have them sent anywhere. driftwatch sends them
 * only to the registry's own origin (scheme, host and port: another port on the same host can be
 * another service with another owner, so it is not trusted by default) and to the origins a
 * check lists in `realmAllow`. Anonymous token requests carry nothing and may go to any HTTPS
 * realm.
 */

/** What realmAllow entries must look like (validation messages and docs say the same). */
export const REALM_ORIGIN_WANTED = 'must be an HTTPS origin, https://HOST or https://HOST:PORT with nothing after it, e.g. https://auth.example.com:5001';

/**
 * Where each well-known registry keeps its token server on another host, as its clients know it:
 * Docker Hub's API (registry-1.docker.io) sends clients to auth.docker.io.
 */
const KNOWN_REALMS: Record<string, string> = {
  'https://registry-1.docker.io': 'https://auth.docker.io',
};

/** The origin of `https://host[:port]` (one trailing slash allowed), normalised as URL does; undefined for anything else. */
export function parseRealmOrigin(text: string): string | undefined {
  // No path, query, fragment, userinfo or backslash: an origin names a party, nothing more.
  if (!/^https:\/\/[^/?#@\\\s]+\/?$/i.test(text)) return undefined;
  try {
    const url = new URL(text);
    return url.hostname === '' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/** The origins that may receive the basic credentials for this registry (host[:port]). */
export function credentialOrigins(registry: string, realmAllow: readonly string[] | undefined): Set<string> {
  const own = new URL(`https://${registry}`).origin;
  const origins = new Set<string>([own]);
  const known = KNOWN_REALMS[own];
  if (known !== undefined) origins.add(known);
  for (const entry of realmAllow ?? []) {
    const origin = parseRealmOrigin(entry);
    if (origin !== undefined) origins.add(origin);
  }
  return origins;
}

/** Whether a token realm may receive the basic credentials of a check on this registry. */
export function mayReceiveCredentials(realm: URL, registry: string, realmAllow: readonly string[] | undefined): boolean {
  return credentialOrigins(registry, realmAllow).has(realm.origin);
}
