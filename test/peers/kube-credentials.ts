import type { IncomingMessage } from 'node:http';
import { generate } from 'selfsigned';

/**
 * Credentials of the stand-in API server (kube-api.ts): its TLS material, the kubeconfig user
 * entries it writes, and how it reads what a request presented.
 */

/** A kubeconfig user's credentials instead of a token: an exec plugin, Basic (its token is "user:password"), or a client certificate beside the token. */
export type KubeUser = { exec: { command: string; args: string[] } } | { username: string; password: string } | { clientCertificate: { cert: string; key: string } };


/** A CA and a 127.0.0.1 serving certificate it signed (EC keys: milliseconds). */
export async function mintTls(): Promise<{ ca: string; key: string; cert: string }> {
  const notAfterDate = new Date(Date.now() + 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'driftwatch stand-in kube CA' }], {
    keyType: 'ec', algorithm: 'sha256', notAfterDate,
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }],
  });
  const leaf = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    keyType: 'ec', algorithm: 'sha256', notAfterDate, ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'kubernetes.default.svc' }] },
    ],
  });
  return { ca: ca.cert, key: leaf.private, cert: leaf.cert };
}

/** The bearer token, or the "user:password" of Basic credentials, a request presented ('' for none). */
export function credentialOf(req: IncomingMessage): string {
  const [scheme, value = ''] = (req.headers.authorization ?? '').split(' ', 2);
  if (scheme === 'Bearer') return value;
  return scheme === 'Basic' ? Buffer.from(value, 'base64').toString() : '';
}

/** A kubeconfig user entry: the token, or the credentials given instead of it (or beside it: a client certificate). */
export function userEntry(token: string, user: KubeUser | undefined): Record<string, unknown> {
  if (user === undefined) return { token };
  if ('exec' in user) return { exec: { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never', ...user.exec } };
  if ('username' in user) return user;
  const pem = (text: string) => Buffer.from(text).toString('base64');
  return { token, 'client-certificate-data': pem(user.clientCertificate.cert), 'client-key-data': pem(user.clientCertificate.key) };
}

/** A client certificate and key (self-signed: the stand-in does not ask for one, so TLS never checks it). */
export async function mintClientCertificate(): Promise<{ cert: string; key: string }> {
  const made = await generate([{ name: 'commonName', value: 'driftwatch' }], { keyType: 'ec', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000) });
  return { cert: made.cert, key: made.private };
}
