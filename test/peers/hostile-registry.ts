/**
 * A hostile Docker Registry v2 peer: real HTTPS on a loopback address of its own (127.0.0.2,
 * 127.0.0.3), speaking the registry API's handshake (a 401 with WWW-Authenticate: Basic, or
 * Bearer naming a token realm; a token endpoint at /token) and serving manifests, but copying
 * the Authorization it receives into what it answers, as a broken or malicious registry (or a
 * proxy in its name) may:
 *   echo/type          200, Content-Type: the Authorization header
 *   echo/digest        200, Docker-Content-Digest: the Authorization header
 *   echo/refuse        HEAD 200 without a digest, so the client GETs; the GET is refused 401 with
 *                      the credential as the error code, in message, detail and WWW-Authenticate
 *   echo/token-refuse  /token refuses a token for it, 401 with the last credential it was sent
 *                      (another run's token) as the error code
 *   long/type          200 with an 8,000-character Content-Type; its challenge has an
 *                      8,000-character Basic realm or Bearer scope
 *   anything else: a plain manifest (for the token realm tests)
 * Every later 401 challenge also carries the last Authorization received (service and scope
 * params, error body): what a registry remembers from one run and tells the next.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import type { Certificates } from './certs.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 }, layers: [] }));
export const MANIFEST_DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const LONG = 8000;

export type Challenge = { scheme: 'basic' } | { scheme: 'bearer'; realm: string };

/** One request as the peer saw it, with the Authorization it carried (the test's own canaries). */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface HostileRegistry {
  /** HOST:PORT as an image reference or realm names it. */
  host: string;
  /** https://HOST:PORT */
  origin: string;
  /** What a request without credentials is challenged with; change it between runs. */
  challenge: Challenge;
  /** What /token issues: the same token every time, so a later run can be shown it echoed. */
  token: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export interface HostileOptions {
  /** The loopback address to listen on. */
  address: string;
  /** The name in URLs: certs.hostname (the check pins it with resolve:) or the address itself. */
  hostname: string;
  token: string;
  challenge?: Challenge;
}

export async function startHostileRegistry(certs: Certificates, options: HostileOptions): Promise<HostileRegistry> {
  const tls = options.hostname === certs.hostname ? certs.leaf : await mintIpLeaf(certs, options.address);
  const requests: SeenRequest[] = [];
  let last: string | undefined;
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const authorization = req.headers.authorization;
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorization });
    answer(req, res, authorization);
    if (authorization !== undefined) last = authorization;
  });
  server.listen(0, options.address);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = `${options.hostname}:${port}`;
  const peer: HostileRegistry = {
    host,
    origin: `https://${host}`,
    challenge: options.challenge ?? { scheme: 'basic' },
    token: options.token,
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };

  function answer(req: IncomingMessage, res: ServerResponse, authorization: string | undefined): void {
    const url = new URL(req.url ?? '/', peer.origin);
    if (url.pathname === '/token') {
      if (url.searchParams.get('scope')?.includes('echo/token-refuse')) {
        refuse(res, 'echo/token-refuse', last);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: peer.token, access_token: peer.token, expires_in: 300 }));
      return;
    }
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!match?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const repository = match[1];
    if (authorization === undefined) {
      refuse(res, repository, last);
      return;
    }
    const headers: Record<string, string> = { 'content-type': OCI_MANIFEST, 'docker-content-digest': MANIFEST_DIGEST, 'content-length': String(MANIFEST.length) };
    if (repository === 'echo/type') headers['content-type'] = authorization;
    if (repository === 'long/type') headers['content-type'] = `application/vnd.${'x'.repeat(LONG)}+json`;
    if (repository === 'echo/digest') headers['docker-content-digest'] = authorization;
    if (repository === 'echo/refuse' && req.method === 'HEAD') Reflect.deleteProperty(headers, 'docker-content-digest');
    if (repository === 'echo/refuse' && req.method !== 'HEAD') {
      refuse(res, repository, authorization);
      return;
    }
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : MANIFEST);
  }

  /** A 401 with the challenge, telling whatever credential it holds in every place it can. */
  function refuse(res: ServerResponse, repository: string, echo: string | undefined): void {
    const credential = echo?.replace(/^\S+\s+/, '');
    const long = repository === 'long/type' ? 'x'.repeat(LONG) : '';
    const asked = `repository:${repository}:pull${long}`;
    // The token endpoint tells echo/token-refuse apart by its scope, so that one stays plain.
    const scope = long === '' && repository !== 'echo/token-refuse' ? (echo ?? asked) : asked;
    const challenge = peer.challenge.scheme === 'basic'
      ? `Basic realm="hostile registry${long}"${echo === undefined ? '' : `, service="${echo}"`}`
      : `Bearer realm="${peer.challenge.realm}",service="${echo ?? 'hostile'}",scope="${scope}"`;
    const errors = [{ code: credential ?? 'UNAUTHORIZED', message: echo ?? 'authentication required', detail: echo === undefined ? null : { authorization: echo } }];
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': challenge }).end(JSON.stringify({ errors }));
  }

  return peer;
}

/** A leaf for an IP address (IP SAN), signed by the run's test CA. */
async function mintIpLeaf(certs: Certificates, ip: string): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: ip }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86_400_000),
    notAfterDate: new Date(Date.now() + 30 * 86_400_000),
    ca: { key: certs.ca.key, cert: certs.ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
