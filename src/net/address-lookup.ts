import { lookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** Which address family to dial: `prefer` first; the other only with `fallback` (blackbox's preferred_ip_protocol, ip_protocol_fallback). */
export interface IpPreference {
  prefer: 4 | 6;
  fallback: boolean;
}

/** Orders (or, without fallback, filters) resolved addresses by the preference; unchanged without one. */
export function orderAddresses(addresses: readonly LookupAddress[], preference: IpPreference | undefined): LookupAddress[] {
  if (!preference) return [...addresses];
  const preferred = addresses.filter((a) => a.family === preference.prefer);
  return preference.fallback ? [...preferred, ...addresses.filter((a) => a.family !== preference.prefer)] : preferred;
}

/** An error like getaddrinfo's, so results/classify.ts reads it as a DNS failure. */
function noAddress(host: string, preference: IpPreference | undefined): Error {
  const which = preference && !preference.fallback ? ` IPv${preference.prefer}` : '';
  return Object.assign(new Error(`no${which} address for ${host}${which ? ' (ipProtocolFallback: false)' : ''}`), { code: 'ENOTFOUND' });
}

/**
 * Resolves a host to the one address a tcp or tls check dials, timed (probe_dns_lookup_time_seconds).
 * getaddrinfo cannot be cancelled: an abort stops the wait, not the lookup.
 */
export function lookupAddress(host: string, preference: IpPreference | undefined, signal: AbortSignal): Promise<{ address: string; lookupMs: number }> {
  const started = performance.now();
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) return Promise.resolve({ address: bare, lookupMs: performance.now() - started });
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    lookup(bare, { all: true }, (err, found) => {
      signal.removeEventListener('abort', onAbort);
      const [first] = orderAddresses(err ? [] : found, preference);
      if (err) reject(err);
      else if (first === undefined) reject(noAddress(bare, preference));
      else resolve({ address: first.address, lookupMs: performance.now() - started });
    });
  });
}
