/**
 * A Docker Registry v2 token server (distribution's docs/spec/auth/token.md and jwt.md), the
 * part of Gitea's or Harbor's registry that the runbook's `curl /v2/token?service=...&scope=...`
 * talks to. It checks HTTP basic credentials against its users, grants the intersection of the
 * asked scope and the user's grants (anonymous callers get a token granting nothing), and signs
 * an ES256 JWT with a key minted per run whose self-signed certificate the real registry trusts
 * as its `auth.token.rootcertbundle` (the JWT carries the certificate in its x5c header, which
 * distribution 2.8 verifies against that bundle). HTTPS on 127.0.0.1 with the test CA's leaf.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { Certificates } from './certs.js';

export const TOKEN_SERVICE = 'driftwatch-test-registry';
export const TOKEN_ISSUER = 'driftwatch-test-token-server';

export interface TokenUser {
  password: string;
  /** repository -> actions this user may be granted (pull, push). */
  grants: Record<string, string[]>;
}

/** One /v2/token request as the server saw it (never the password). */
export interface TokenRequest {
  user: string | undefined;
  service: string | undefined;
  scopes: string[];
  /** 200 (a token was issued) or 401 (credentials refused). */
  status: number;
  /** What the issued token grants: "repository:NAME:pull,push". */
  granted: string[];
}

export interface Access {
  type: 'repository';
  name: string;
  actions: string[];
}

export interface TokenServer {
  /** The realm the registry names in its challenge: https://HOSTNAME:PORT/v2/token. */
  realm: string;
  port: number;
  /** The signing certificate, for the registry's rootcertbundle. */
  rootCertPath: string;
  users: Map<string, TokenUser>;
  readonly requests: TokenRequest[];
  /** Every token issued through /v2/token, for canary tests. */
  readonly issued: string[];
  /** A token as the server would issue it (for the test's own pushes). */
  mint(access: Access[], subject?: string): string;
  close(): Promise<void>;
}

export async function startTokenServer(certs: Certificates, users: Record<string, TokenUser>): Promise<TokenServer> {
  const signing = await generate([{ name: 'commonName', value: 'driftwatch test token signer' }], {
    keyType: 'ec', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true }],
  });
  const rootCertPath = join(certs.dir, `token-signer-${randomUUID()}.pem`);
  await writeFile(rootCertPath, signing.cert);
  const key = createPrivateKey(signing.private);
  const x5c = signing.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  const known = new Map(Object.entries(users));
  const requests: TokenRequest[] = [];
  const issued: string[] = [];
  const mint = (access: Access[], subject = '') => signJwt(key, x5c, subject, access);

  const server: Server = createServer({ key: certs.leaf.key, cert: certs.leaf.cert }, (req, res) => {
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://token-server');
    if (url.pathname !== '/v2/token') {
      res.writeHead(404).end();
      return;
    }
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [user, password] = basic?.[1] ? splitOnce(Buffer.from(basic[1], 'base64').toString('utf8'), ':') : [undefined, undefined];
    const scopes = url.searchParams.getAll('scope');
    const seen = { user, service: url.searchParams.get('service') ?? undefined, scopes };
    const account = user === undefined ? undefined : known.get(user);
    if (user !== undefined && account?.password !== password) {
      requests.push({ ...seen, status: 401, granted: [] });
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="driftwatch test tokens"' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
      return;
    }
    const access = scopes.flatMap((scope) => grant(scope, account));
    requests.push({ ...seen, status: 200, granted: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`) });
    const token = mint(access, user);
    issued.push(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  }

  return {
    realm: `https://${certs.hostname}:${port}/v2/token`,
    port,
    rootCertPath,
    users: known,
    requests,
    issued,
    mint,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** repository:NAME:ACTIONS, granted as far as the user's grants reach. */
function grant(scope: string, account: TokenUser | undefined): Access[] {
  const match = /^repository:([^:]+):([a-z,*]+)$/.exec(scope);
  if (!match?.[1] || !match[2] || !account) return [];
  const allowed = account.grants[match[1]] ?? [];
  const actions = match[2].split(',').filter((action) => allowed.includes(action));
  return actions.length > 0 ? [{ type: 'repository', name: match[1], actions }] : [];
}

function signJwt(key: KeyObject, x5c: string, subject: string, access: Access[]): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [x5c] };
  const claims = { iss: TOKEN_ISSUER, sub: subject, aud: TOKEN_SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
  const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // JWS ES256 signatures are r || s (64 bytes), not DER.
  const signature = sign('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
