import type { Socket } from 'node:net';
import { z } from 'zod';
import { classifyError } from '../results/classify.js';
import { baseFields } from '../config/base.js';
import { addressSamples, probeSample } from './blackbox-series.js';
import { lookupAddress } from '../net/address-lookup.js';
import { plainConnect } from '../net/plain-connect.js';
import { guard } from '../net/listener-guard.js';
import type { CheckType } from './check-type.js';
import type { Failure } from '../results/result.js';
import { ipPreference, ipProtocolFields } from './ip-protocol.js';
import { askEveryEndpoint, endpointSamples, endpointsFrom, type EndpointsObservations } from './service-endpoints.js';

export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('tcp'),
    host: z.string().min(1).meta({ description: 'host name or IP address' }),
    port: z.number().int().min(1).max(65535),
    resolve: z.ipv4().or(z.ipv6()).optional().meta({ description: 'dial this IP instead of resolving host' }),
    endpointsFrom,
    ...ipProtocolFields,
  })
  .refine((spec) => spec.endpointsFrom === undefined || spec.resolve === undefined, {
    path: ['endpointsFrom'],
    error: 'give either resolve (one address) or endpointsFrom (every endpoint of a Service), not both',
  });
export type TcpSpec = z.infer<typeof schema>;

export interface TcpObservations {
  address?: string;
  port: number;
  /** Resolving host (0 for an IP or a pinned address). */
  lookupMs?: number;
  connectMs?: number;
  /** With endpointsFrom: every endpoint of the Service and whether it accepted the connection. */
  endpoints?: EndpointsObservations;
}

/** Opens a TCP connection and closes it: reachability and connect time. */
export const check: CheckType<TcpSpec, TcpObservations> = {
  async run(spec, ctx) {
    if (spec.endpointsFrom !== undefined) {
      const { observations, failure } = await askEveryEndpoint(spec.endpointsFrom, ctx, (endpoint) => connectOnce(endpoint.address, endpoint.port, ctx.signal));
      return { observations: { port: spec.port, endpoints: observations }, ...(failure && { failure }) };
    }
    const { address, lookupMs } = await lookupAddress(spec.resolve ?? spec.host, ipPreference(spec), ctx.signal);
    ctx.progress({ address, port: spec.port, lookupMs });
    const started = performance.now();
    let socket: Socket;
    try {
      socket = await dial(address, spec.port, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return { observations: { address, port: spec.port, lookupMs }, failure: classifyError(err) };
    }
    try {
      const connectMs = performance.now() - started;
      ctx.trace('connected', { address, port: spec.port, connectMs });
      return { observations: { address, port: spec.port, lookupMs, connectMs } };
    } finally {
      socket.destroy();
    }
  },
  samples: (spec, o) => (spec.endpointsFrom === undefined ? [] : endpointSamples(o?.endpoints)),
  // blackbox's tcp prober without query_response: the address series, and no regex to fail.
  probeSamples: (_spec, o) => [...addressSamples(o?.address, o?.lookupMs), probeSample('probe_failed_due_to_regex', 0)],
  target: {
    get: (spec) => `${spec.host}:${spec.port}`,
    set: (spec, target) => {
      const at = target.lastIndexOf(':');
      const port = Number(target.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port)) return { ...spec, host: target };
      return { ...spec, host: target.slice(0, at), port, resolve: undefined };
    },
  },
};

/** One endpoint of a Service: does it accept a connection? */
async function connectOnce(address: string, port: number, signal: AbortSignal): Promise<{ totalMs?: number; failure?: Failure }> {
  const started = performance.now();
  try {
    (await dial(address, port, signal)).destroy();
    return { totalMs: performance.now() - started };
  } catch (err) {
    if (signal.aborted) throw err;
    return { failure: classifyError(err) };
  }
}

/** No `signal` option on connect: net keeps the socket reachable from the signal; the abort listener is ours and removed when the dial settles. */
function dial(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const socket = plainConnect({ host, port });
    const onAbort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onError = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(
      'connect',
      guard(onError, () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        // The caller destroys the socket; an error before it does must not be an uncaught 'error' event.
        socket.on('error', () => undefined);
        resolve(socket);
      }),
    );
  });
}
