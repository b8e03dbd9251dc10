import { createServer, type Server, type Socket } from 'node:net';

/** A TCP server on 127.0.0.1 that accepts and holds connections, and a port known to be closed. */
export async function startTcpPeer(): Promise<{ port: number; closedPort: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
    });
    socket.on('error', () => undefined);
  });
  const port = await listen(server);
  // A port that was just free: bind, read, close.
  const probe = createServer();
  const closedPort = await listen(probe);
  await new Promise<void>((resolve) => {
    probe.close(() => {
      resolve();
    });
  });
  return {
    port,
    closedPort,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}
