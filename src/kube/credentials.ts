import type { RequestOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorCode } from '../results/classify.js';
import { CheckFailure } from '../results/result.js';
import { cutText, MAX_SERVER_TEXT } from './text-bounds.js';

/** What one request to the API server presents. */
export interface Credentials {
  connect: ConnectionOptions;
  headers: Record<string, string>;
  /**
   * The secret parts of it, for the run to scrub: the Authorization header and the credential
   * in it (a kubeconfig or service-account token, an exec plugin's token, Basic user:password),
   * and the client key. An API server that echoes a request into an error would otherwise put
   * them into results, pages and logs.
   */
  secrets: string[];
}

/**
 * TLS material and headers for one request, from client-node: CA, client certificate and key,
 * the Authorization header (re-reading a rotated service-account token, running exec plugins).
 * The https.Agent it also builds is left unused.
 */
export async function credentials(config: KubeConfig, source: string): Promise<Credentials> {
  const tls: RequestOptions = {};
  try {
    await config.applyToHTTPSOptions(tls);
  } catch (err) {
    // An exec plugin's failure is its stderr, whatever it printed: the first line, cut.
    const why = errorCode(err) ?? (err instanceof Error ? cutText(err.message.trim().split('\n')[0] ?? '', MAX_SERVER_TEXT) : 'unknown error');
    throw new CheckFailure('config', `${source}: credentials cannot be read (${why})`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [key, value] of Object.entries(tls.headers ?? {})) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (tls.auth) headers.authorization = `Basic ${Buffer.from(tls.auth).toString('base64')}`;
  const connect: ConnectionOptions = { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername };
  if (tls.rejectUnauthorized !== undefined) connect.rejectUnauthorized = tls.rejectUnauthorized;
  return { connect, headers, secrets: secretsOf(headers.authorization, tls) };
}

function secretsOf(authorization: string | undefined, tls: RequestOptions): string[] {
  const secrets: string[] = [];
  if (authorization !== undefined) {
    secrets.push(authorization);
    // The token itself, whatever its length: the runner scrubs a scheme's credential part only
    // from 6 characters on, but this one is a configured value in its own right.
    const credential = /^\S+\s+(.+)$/s.exec(authorization)?.[1];
    if (credential !== undefined) secrets.push(credential);
  }
  if (tls.auth) secrets.push(tls.auth);
  for (const key of [tls.key].flat()) {
    const pem = pemText(key);
    if (pem === undefined || pem.trim() === '') continue;
    // The PEM as written, and its base64 body on one line (as a JSON or log line would carry it).
    secrets.push(pem, pem.replace(/-----[^-]*-----/g, '').replace(/\s+/g, ''));
  }
  return secrets.filter((secret) => secret.trim() !== '');
}

/** A client key as text, whichever form TLS options carry it in. */
function pemText(key: string | Buffer | { pem: string | Buffer } | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key === 'string' || Buffer.isBuffer(key)) return key.toString();
  return key.pem.toString();
}
