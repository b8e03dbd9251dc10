import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { errorCode } from '../results/classify.js';
import { CheckFailure } from '../results/result.js';

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** What pg's `ssl` option needs for an sslmode: false (no TLS) or the options for tls.connect. */
export async function postgresTlsOptions(tls: { sslmode: SslMode; ca?: string | undefined; serverName?: string | undefined }, signal: AbortSignal): Promise<false | ConnectionOptions> {
  switch (tls.sslmode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ca: await readCa(tls.ca, signal), checkServerIdentity: () => undefined };
    case 'verify-full': {
      const ca = await readCa(tls.ca, signal);
      const name = tls.serverName;
      if (name === undefined) return { ca };
      // pg sets SNI only for names, never for an IP host; a serverName is checked against the certificate either way.
      return { ca, ...(isIP(name) === 0 && { servername: name }), checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) };
    }
  }
}

async function readCa(path: string | undefined, signal: AbortSignal): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    throw new CheckFailure('config', `cannot read ca ${path} (${errorCode(err) ?? 'unknown error'})`);
  }
}
