import { connect, type Socket } from 'node:net';
import { z } from 'zod';
import { baseFields } from '../config/base.js';
import type { CheckType } from './check-type.js';

export const schema = z.strictObject({
  ...baseFields,
  type: z.literal('tcp'),
  host: z.string().min(1).meta({ description: 'host name or IP address' }),
  port: z.number().int().min(1).max(65535),
  resolve: z.ipv4().or(z.ipv6()).optional().meta({ description: 'dial this IP instead of resolving host' }),
});
export type TcpSpec = z.infer<typeof schema>;

export interface TcpObservations {
  address: string;
  port: number;
  connectMs: number;
}

/** Opens a TCP connection and closes it: reachability and connect time. */
export const check: CheckType<TcpSpec, TcpObservations> = {
  async run(spec, ctx) {
    const started = performance.now();
    const socket = await dial(spec.resolve ?? spec.host, spec.port, ctx.signal);
    try {
      const connectMs = performance.now() - started;
      const address = socket.remoteAddress ?? spec.host;
      ctx.trace('connected', { address, port: spec.port, connectMs });
      return { observations: { address, port: spec.port, connectMs } };
    } finally {
      socket.destroy();
    }
  },
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

function dial(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}
