import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

/** A port free for both TCP and UDP on 127.0.0.1 right now (a child binds it a moment later). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    await new Promise((resolve) => server.close(resolve));
    const udp = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => {
        resolve(false);
      });
      udp.bind(port, '127.0.0.1', () => {
        resolve(true);
      });
    });
    try {
      udp.close();
    } catch {
      // a socket that failed to bind is already closed
    }
    if (free) return port;
  }
  throw new Error('no free port on 127.0.0.1 after 50 tries');
}

/** A port nothing listens on (TCP and UDP): bound, read, released. */
export const closedPort = freePort;

/** Starts `server` on 127.0.0.1 on a port the system picks, and returns the port. */
export async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
