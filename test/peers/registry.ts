/**
 * A real OCI/Docker registry on loopback: Debian's docker-registry (distribution 2.8), HTTPS with
 * the run's certificates, storage in a temp folder, and either htpasswd (bcrypt, `htpasswd -B`)
 * basic auth or distribution's `auth: token:` mode trusting our token server
 * (registry-token-server.ts). Images are pushed with the registry API itself (blob uploads and a
 * manifest PUT), as skopeo or crane would, so no Docker is needed. stop() and start() take the
 * registry down and up again on the same port.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { Certificates } from './certs.js';
import { TOKEN_ISSUER, TOKEN_SERVICE, type TokenServer } from './registry-token-server.js';
import { freePort } from '../support/ports.js';

const BINARY = '/usr/bin/docker-registry';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export type RegistryAuth = { htpasswd: Record<string, string> } | { token: TokenServer } | 'none';

export interface RegistryPeer {
  /** HOSTNAME:PORT, the registry part of an image reference (pair with `resolve: 127.0.0.1`). */
  host: string;
  port: number;
  /** Pushes a one-layer image (or, with platforms, an OCI index of one image per platform) under tag; returns the digest the tag now points at. */
  push(repository: string, tag: string, options?: { platforms?: string[] }): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRegistry(certs: Certificates, auth: RegistryAuth): Promise<RegistryPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-registry-'));
  const port = await freePort();
  // The test's own pushes: a user of its own in htpasswd, or a push token from the token server.
  const pusher = { user: 'pusher', password: randomBytes(12).toString('hex') };
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex'), tls: { certificate: certs.leaf.certPath, key: join(certs.dir, 'leaf-key.pem') } },
  };
  if (auth !== 'none' && 'htpasswd' in auth) {
    const lines = await Promise.all(Object.entries({ ...auth.htpasswd, [pusher.user]: pusher.password }).map(([user, password]) => bcryptLine(user, password)));
    await writeFile(join(dir, 'htpasswd'), lines.join(''));
    config.auth = { htpasswd: { realm: 'driftwatch test registry', path: join(dir, 'htpasswd') } };
  } else if (auth !== 'none') {
    config.auth = { token: { realm: auth.token.realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootcertbundle: auth.token.rootCertPath } };
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, stringify(config));
  const host = `${certs.hostname}:${port}`;
  let child: ChildProcess | undefined;

  const authorization = (repository: string): string | undefined => {
    if (auth === 'none') return undefined;
    if ('htpasswd' in auth) return `Basic ${Buffer.from(`${pusher.user}:${pusher.password}`).toString('base64')}`;
    return `Bearer ${auth.token.mint([{ type: 'repository', name: repository, actions: ['pull', 'push'] }], 'pusher')}`;
  };
  const api = (method: string, path: string, repository: string, headers: Record<string, string> = {}, body?: Buffer) =>
    send({ port, hostname: certs.hostname, ca: certs.ca.cert }, method, path, { ...headers, ...optional('authorization', authorization(repository)) }, body);

  const peer: RegistryPeer = {
    host,
    port,
    async push(repository, tag, options = {}) {
      const platforms = options.platforms ?? [];
      if (platforms.length === 0) return putManifest(repository, tag, await imageManifest(repository, 'linux/amd64'), OCI_MANIFEST);
      const manifests = [];
      for (const platform of platforms) {
        const body = await imageManifest(repository, platform);
        const digest = await putManifest(repository, sha256(body), body, OCI_MANIFEST);
        const [os, architecture] = platform.split('/');
        manifests.push({ mediaType: OCI_MANIFEST, digest, size: body.length, platform: { architecture, os } });
      }
      return putManifest(repository, tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })), OCI_INDEX);
    },
    async start() {
      child = await launch(configPath, port);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGTERM');
      await once(running, 'exit');
    },
    async close() {
      await peer.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };

  /** A config blob and a layer of fresh random bytes (so every push is a new digest), then the manifest naming them. */
  async function imageManifest(repository: string, platform: string): Promise<Buffer> {
    const [os, architecture] = platform.split('/');
    const layer = randomBytes(512);
    const config = Buffer.from(JSON.stringify({ architecture, os, created: new Date().toISOString(), rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, config: { Cmd: ['/bin/inter-hub'] } }));
    await putBlob(repository, config);
    await putBlob(repository, layer);
    return Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }));
  }

  /** POST to open an upload, PUT the bytes with their digest to close it (the spec's monolithic upload). */
  async function putBlob(repository: string, blob: Buffer): Promise<void> {
    const started = await api('POST', `/v2/${repository}/blobs/uploads/`, repository, { 'content-length': '0' });
    const location = started.headers.location;
    if (started.status !== 202 || typeof location !== 'string') throw new Error(`blob upload to ${repository} answered ${started.status}: ${started.body}`);
    const url = new URL(location, `https://${host}`);
    url.searchParams.set('digest', sha256(blob));
    const done = await api('PUT', url.pathname + url.search, repository, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) }, blob);
    if (done.status !== 201) throw new Error(`blob upload to ${repository} answered ${done.status}: ${done.body}`);
  }

  async function putManifest(repository: string, reference: string, body: Buffer, mediaType: string): Promise<string> {
    const put = await api('PUT', `/v2/${repository}/manifests/${reference}`, repository, { 'content-type': mediaType, 'content-length': String(body.length) }, body);
    if (put.status !== 201) throw new Error(`manifest PUT ${repository}:${reference} answered ${put.status}: ${put.body}`);
    const digest = put.headers['docker-content-digest'];
    if (digest !== sha256(body)) throw new Error(`registry says ${String(digest)} for a manifest hashing to ${sha256(body)}`);
    return digest;
  }

  try {
    await peer.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return peer;
}

/**
 * A front for a registry (reads only) that answers HEAD without Docker-Content-Digest, as some
 * registries do, so clients must GET the manifest and hash it; with `lie`, the header on GETs is
 * another digest (a corrupted manifest, or a registry serving the wrong bytes).
 */
export async function startDigestlessFront(registry: RegistryPeer, certs: Certificates, options: { lie?: boolean } = {}): Promise<{ host: string; close(): Promise<void> }> {
  const server = createServer({ key: certs.leaf.key, cert: certs.leaf.cert }, (req, res) => {
    const headers: Record<string, string> = {};
    for (const name of ['accept', 'authorization']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    send({ port: registry.port, hostname: certs.hostname, ca: certs.ca.cert }, req.method ?? 'GET', req.url ?? '/', headers).then(
      (answer) => {
        const out = { ...answer.headers };
        delete out['docker-content-digest'];
        delete out['content-length'];
        if (req.method === 'GET' && answer.headers['docker-content-digest'] !== undefined && options.lie) out['docker-content-digest'] = `sha256:${'0'.repeat(64)}`;
        else if (req.method === 'GET' && answer.headers['docker-content-digest'] !== undefined) out['docker-content-digest'] = answer.headers['docker-content-digest'];
        res.writeHead(answer.status, out).end(answer.body);
      },
      () => res.writeHead(502).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    host: `${certs.hostname}:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Starts the registry and waits until it accepts TLS connections (it logs nothing at level warn). */
async function launch(configPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr}`);
    if (await accepts(port)) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry not listening on ${port} after 15 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

async function bcryptLine(user: string, password: string): Promise<string> {
  const { stdout } = await promisify(execFile)('htpasswd', ['-nbB', user, password]);
  return `${stdout.trim()}\n`;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function optional(name: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: value };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to the registry on 127.0.0.1, SNI and Host the certificate's name. */
function send(target: { port: number; hostname: string; ca: string }, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: target.port, servername: target.hostname, ca: target.ca, method, path, headers: { host: `${target.hostname}:${target.port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}
