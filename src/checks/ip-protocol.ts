import { z } from 'zod';
import type { IpPreference } from '../net/address-lookup.js';

/** The address-family keys of the http, tcp and tls checks, as blackbox's modules have them. */
export const ipProtocolFields = {
  ipProtocol: z.enum(['ip4', 'ip6']).optional().meta({ description: "dial this address family first (blackbox's preferred_ip_protocol); default: the system's order" }),
  ipProtocolFallback: z.boolean().default(true).meta({ description: 'with ipProtocol: dial the other family when the name has no address of it (default true)' }),
};

export function ipPreference(spec: { ipProtocol?: 'ip4' | 'ip6' | undefined; ipProtocolFallback: boolean }): IpPreference | undefined {
  return spec.ipProtocol === undefined ? undefined : { prefer: spec.ipProtocol === 'ip4' ? 4 : 6, fallback: spec.ipProtocolFallback };
}
