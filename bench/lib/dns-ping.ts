import { createSocket } from 'node:dgram';
import { decode, encode, RECURSION_DESIRED } from 'dns-packet';

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/**
 * One DNS query over UDP on a fresh socket, the minimum a DNS probe must do: encode, send,
 * wait for the matching id, decode. Used by the physical-limit client and to see a server is up.
 * Resolves undefined when nothing answers within timeoutMs.
 */
export async function queryOnce(host: string, port: number, name: string, type: 'A' | 'SOA', timeoutMs: number): Promise<{ rcode: string; answers: number } | undefined> {
  const socket = createSocket('udp4');
  const id = Math.floor(Math.random() * 65536);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve) => {
      const silent = () => {
        resolve(undefined);
      };
      timer = setTimeout(silent, timeoutMs);
      socket.on('error', silent);
      socket.on('message', (data) => {
        if (data.length < 12 || data.readUInt16BE(0) !== id) return;
        const packet = decode(data);
        resolve({ rcode: RCODES[(packet.flags ?? 0) & 0xf] ?? 'OTHER', answers: packet.answers?.length ?? 0 });
      });
      socket.connect(port, host, () => {
        socket.send(encode({ type: 'query', id, flags: RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }));
      });
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
