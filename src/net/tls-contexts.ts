import { createSecureContext, type SecureContext } from 'node:tls';

/** CA bundles whose contexts are kept; past this the cache starts over (a check set has a few). */
const MAX_CONTEXTS = 64;
const contexts = new Map<string, SecureContext>();
let systemRoots: SecureContext | undefined;

/**
 * The TLS context of a client connection trusting `ca` (PEM text; undefined: Node's root
 * store), shared by every connection that trusts the same. tls.connect otherwise builds one per
 * connection: about 125 us of CPU (an OpenSSL SSL_CTX with its certificate store), and a native
 * object the young generation cannot free. A context holds configuration only: no client
 * session is cached in it (Node keeps none without a `session` option), so sharing one lets
 * no connection resume another's. Verification is unchanged: the connection's `authorized` and
 * `authorizationError` come from the same store.
 */
export function clientContext(ca: string | undefined): SecureContext {
  if (ca === undefined) return (systemRoots ??= createSecureContext({}));
  let context = contexts.get(ca);
  if (context === undefined) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = createSecureContext({ ca });
    contexts.set(ca, context);
  }
  return context;
}
