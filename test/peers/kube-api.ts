/**
 * A stand-in Kubernetes API server, because no real one can run on these machines (no
 * kube-apiserver, k3s, kind or Docker; see /work/shared/TESTING.md). It is not a Kubernetes: it
 * serves GET of single namespaced objects and of namespaced lists at their real paths
 *   /apis/apps/v1/namespaces/NS/{deployments,statefulsets,daemonsets}[/NAME]
 *   /api/v1/namespaces/NS/{secrets,services,pods}[/NAME]
 *   /apis/postgresql.cnpg.io/v1/namespaces/NS/clusters[/NAME]
 * lists with labelSelector and fieldSelector (metadata.name, metadata.namespace) evaluated as the
 * API server does, and as PartialObjectMetadataList when the Accept header asks for metadata only,
 * over HTTPS on 127.0.0.1 with a CA minted per run, bearer-token authentication and per-token
 * RBAC denials, and answers errors with meta/v1 Status objects worded as kube-apiserver words
 * them (401 Unauthorized; 403 Forbidden "User ... cannot get resource ..."; 404 NotFound with
 * details; 500 InternalError; "404 page not found" text for a path no API group serves). It
 * serves legacy discovery (/api, /apis, /api/v1, /apis/GROUP/VERSION: kube-discovery.ts) so real
 * kubectl works against it, and a watch that stays open without events (what
 * `kubectl rollout status --watch=false` opens after its list). No writes, admission or controllers: tests move objects along by mutating them
 * (kube-objects.ts has the shapes and the controller-like moves). Reached through a real
 * kubeconfig file or the in-cluster service-account layout that client-node reads.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from './kube-objects.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './kube-selectors.js';
import { discovery } from './kube-discovery.js';
import { credentialOf, mintTls, userEntry, type KubeUser } from './kube-credentials.js';

export const SERVICE_ACCOUNT = 'system:serviceaccount:driftwatch:driftwatch';

/** Which resource types are served, by group/version (core is "v1"). */
const SERVED: Record<string, Record<string, string>> = {
  v1: { Secret: 'secrets', Service: 'services', Pod: 'pods' },
  'apps/v1': { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' },
  'postgresql.cnpg.io/v1': { Cluster: 'clusters' },
  'discovery.k8s.io/v1': { EndpointSlice: 'endpointslices' },
};

export interface KubeApiOptions {
  /** Serve postgresql.cnpg.io (the CloudNativePG CRD installed); default true. */
  cnpg?: boolean;
}

export interface KubeApi {
  url: string;
  port: number;
  caPem: string;
  /** A token allowed to get everything. */
  token: string;
  /** Stores an object (by reference: mutate it to move its status along); returns it. */
  put<T extends KubeObject>(object: T): T;
  remove(object: KubeObject): void;
  /**
   * A further token; `deny` lists RBAC resources it may not read at all ("secrets",
   * "deployments.apps") or with one verb ("list secrets").
   */
  addToken(token: string, options?: { user?: string; deny?: string[] }): void;
  /** Hold every request open without answering until switched off (or closed). */
  hang: boolean;
  /** Answer every authenticated request with this status (500: InternalError, 429: TooManyRequests). */
  failWith: number | undefined;
  /** Rewrites every answer before it is sent: a misbehaving server or proxy in front of it (kube-hostile.ts). */
  rewrite: Rewrite | undefined;
  /** Authenticated GETs served so far: path, query string, and whether a list asked for metadata only. */
  readonly requests: { path: string; search: string; metadataOnly: boolean }[];
  /** A kubeconfig file for the stand-in (certificate-authority-data, token user, context). */
  writeKubeconfig(options?: KubeconfigOptions): Promise<string>;
  /** The service-account layout under a temp prefix, for KubeConfig.loadFromCluster(prefix). */
  writeInCluster(options?: { token?: string; namespace?: string }): Promise<{ pathPrefix: string; env: { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string } }>;
  close(): Promise<void>;
}

export interface KubeconfigOptions {
  token?: string;
  /** Name of the context (and current-context); default "stand-in". */
  context?: string;
  /** More contexts in the same file, each with its own user token. */
  extraContexts?: { name: string; token: string }[];
  /** The main user's credentials instead of its token: an exec plugin, Basic (username/password, token "user:password"), a client certificate beside the token. */
  user?: KubeUser;
}

/** An answer of the stand-in: a status code and a JSON object (or plain text). */
export interface Answer {
  code: number;
  /** A JSON object, text sent as it is (`contentType`, default text/plain: a proxy's error page), or bytes (JSON serialised ahead). */
  body: string | object | Buffer;
  contentType?: string;
}

/** Turns an answer into another, knowing the request's path and the bearer token it presented. */
export type Rewrite = (answer: Answer, request: { path: string; token: string }) => Answer;

interface Identity {
  user: string;
  deny: Set<string>;
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-kube-'));
  const tls = await mintTls();
  const served: Record<string, Record<string, string>> = { ...SERVED };
  if (options.cnpg === false) delete served['postgresql.cnpg.io/v1'];
  const objects = new Map<string, KubeObject>();
  const tokens = new Map<string, Identity>();
  const held = new Set<ServerResponse>();
  const requests: KubeApi['requests'][number][] = [];
  const token = `sa-${randomWord()}`;
  tokens.set(token, { user: SERVICE_ACCOUNT, deny: new Set() });

  const switches: { hang: boolean; failWith: number | undefined; rewrite: Rewrite | undefined } = { hang: false, failWith: undefined, rewrite: undefined };
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (switches.hang) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const token = credentialOf(req);
    const answered = answer(req);
    const { code, body, contentType } = switches.rewrite ? switches.rewrite(answered, { path: new URL(req.url ?? '/', 'https://stand-in').pathname, token }) : answered;
    if (code === 200 && isWatchQuery(new URL(req.url ?? '/', 'https://stand-in'))) {
      // A watch that never sends an event: enough for a client that decides on its initial list.
      held.add(res);
      res.on('close', () => held.delete(res));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      // A streaming list (kubectl 1.35's default, WatchListClient): the initial state as ADDED
      // events, ended by a BOOKMARK annotated k8s.io/initial-events-end, then the open watch.
      if (new URL(req.url ?? '/', 'https://stand-in').searchParams.get('sendInitialEvents') === 'true') res.write(initialEvents(body));
      return;
    }
    if (Buffer.isBuffer(body)) {
      // Megabytes in 64 KiB writes, so the test process (which also times the daemon) is never held by one.
      res.writeHead(code, { 'content-type': contentType ?? 'application/json' });
      Readable.from((function* () { for (let at = 0; at < body.length; at += 65_536) yield body.subarray(at, at + 65_536); })()).pipe(res);
    } else if (typeof body === 'string') res.writeHead(code, { 'content-type': contentType ?? 'text/plain; charset=utf-8' }).end(body);
    else res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  function answer(req: IncomingMessage): Answer {
    const identity = tokens.get(credentialOf(req));
    if (!identity) return status(401, 'Unauthorized', 'Unauthorized');
    if (switches.failWith !== undefined) {
      if (switches.failWith === 429) return status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 });
      return status(switches.failWith, 'InternalError', 'Internal error occurred: etcdserver: request timed out', { causes: [{ message: 'etcdserver: request timed out' }] });
    }
    if (req.method !== 'GET') return status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const url = new URL(req.url ?? '/', 'https://stand-in');
    const path = url.pathname;
    const document = discovery(path, Object.keys(served), `127.0.0.1:${port}`);
    if (document) return { code: 200, body: document };
    // kubectl looks a namespace up after a 404 to word its error; one exists once it holds an object.
    const namespaceOnly = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)?.[1];
    if (namespaceOnly !== undefined) return namespaceObject(decodeURIComponent(namespaceOnly));
    const match = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    const groupVersion = match?.[1] ?? match?.[2];
    const resource = match?.[4];
    const kind = Object.entries(served[groupVersion ?? ''] ?? {}).find(([, r]) => r === resource)?.[0];
    if (!match || !groupVersion || !resource || !kind) return { code: 404, body: '404 page not found\n' };
    const group = groupVersion.includes('/') ? (groupVersion.split('/')[0] ?? '') : '';
    const namespace = decodeURIComponent(match[3] ?? '');
    const name = match[5] === undefined ? undefined : decodeURIComponent(match[5]);
    const rbac = group === '' ? resource : `${resource}.${group}`;
    const verb = name === undefined ? 'list' : 'get';
    if (identity.deny.has(rbac) || identity.deny.has(`${verb} ${rbac}`)) {
      const message = `${rbac}${name === undefined ? '' : ` "${name}"`} is forbidden: User "${identity.user}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`;
      return status(403, 'Forbidden', message, { ...(name !== undefined && { name }), group, kind: resource });
    }
    const metadataOnly = /as=PartialObjectMetadataList/.test(req.headers.accept ?? '');
    requests.push({ path, search: url.search, metadataOnly });
    if (name === undefined) return list(path, groupVersion, kind, url.searchParams, metadataOnly);
    const found = objects.get(path);
    if (!found) return status(404, 'NotFound', `${rbac} "${name}" not found`, { name, group, kind: resource });
    return { code: 200, body: found };
  }

  function namespaceObject(name: string): { code: number; body: object } {
    if (![...objects.values()].some((object) => object.metadata.namespace === name)) return status(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
    return { code: 200, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } };
  }

  /** A List of the collection's objects the selectors select, in name order. */
  function list(path: string, groupVersion: string, kind: string, params: URLSearchParams, metadataOnly: boolean): { code: number; body: object } {
    let selected: KubeObject[];
    try {
      const byLabels = parseLabelSelector(params.get('labelSelector') ?? '');
      const byFields = parseFieldSelector(params.get('fieldSelector') ?? '');
      selected = [...objects.entries()].filter(([key, object]) => key.startsWith(`${path}/`) && byLabels(object) && byFields(object)).map(([, object]) => object);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      return status(400, 'BadRequest', err.message);
    }
    selected.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const metadata = { resourceVersion: String(60_000 + requests.length) };
    if (metadataOnly) {
      const items = selected.map((object) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata }));
      return { code: 200, body: { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items } };
    }
    return { code: 200, body: { kind: `${kind}List`, apiVersion: groupVersion, metadata, items: selected } };
  }

  function pathOf(object: KubeObject): string {
    const resource = served[object.apiVersion]?.[object.kind] ?? SERVED[object.apiVersion]?.[object.kind];
    if (!resource) throw new Error(`stand-in does not serve ${object.apiVersion} ${object.kind}`);
    const root = object.apiVersion === 'v1' ? '/api/v1' : `/apis/${object.apiVersion}`;
    return `${root}/namespaces/${object.metadata.namespace}/${resource}/${object.metadata.name}`;
  }

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: tls.ca,
    token,
    get hang() {
      return switches.hang;
    },
    set hang(on: boolean) {
      switches.hang = on;
    },
    get failWith() {
      return switches.failWith;
    },
    set failWith(code: number | undefined) {
      switches.failWith = code;
    },
    get rewrite() {
      return switches.rewrite;
    },
    set rewrite(rewrite: Rewrite | undefined) {
      switches.rewrite = rewrite;
    },
    requests,
    put<T extends KubeObject>(object: T): T {
      objects.set(pathOf(object), object);
      return object;
    },
    remove(object: KubeObject) {
      objects.delete(pathOf(object));
    },
    addToken(extra: string, opts: { user?: string; deny?: string[] } = {}) {
      tokens.set(extra, { user: opts.user ?? SERVICE_ACCOUNT, deny: new Set(opts.deny ?? []) });
    },
    async writeKubeconfig(opts: KubeconfigOptions = {}) {
      const main = { name: opts.context ?? 'stand-in', token: opts.token ?? token };
      const all = [main, ...(opts.extraContexts ?? [])];
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'stand-in', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(tls.ca).toString('base64') } }],
        users: all.map((c) => ({ name: `${c.name}-user`, user: c === main ? userEntry(main.token, opts.user) : { token: c.token } })),
        contexts: all.map((c) => ({ name: c.name, context: { cluster: 'stand-in', user: `${c.name}-user`, namespace: 'default' } })),
        'current-context': main.name,
        preferences: {},
      };
      const file = join(dir, `kubeconfig-${randomWord()}`);
      await writeFile(file, stringify(config), { mode: 0o600 });
      return file;
    },
    async writeInCluster(opts: { token?: string; namespace?: string } = {}) {
      const pathPrefix = await mkdtemp(join(dir, 'pod-'));
      const sa = join(pathPrefix, 'var/run/secrets/kubernetes.io/serviceaccount');
      await mkdir(sa, { recursive: true });
      await writeFile(join(sa, 'token'), opts.token ?? token);
      await writeFile(join(sa, 'ca.crt'), tls.ca);
      await writeFile(join(sa, 'namespace'), opts.namespace ?? 'driftwatch');
      return { pathPrefix, env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) } };
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The watch events of a streaming list: each item of the List answer ADDED, then the end BOOKMARK. */
function initialEvents(list: unknown): string {
  const answer = typeof list === 'object' && list !== null && !Buffer.isBuffer(list) ? (list as { kind?: unknown; apiVersion?: unknown; metadata?: { resourceVersion?: unknown }; items?: unknown }) : {};
  const items = Array.isArray(answer.items) ? (answer.items as unknown[]) : [];
  const kind = typeof answer.kind === 'string' ? answer.kind.replace(/List$/, '') : '';
  const bookmark = { kind, apiVersion: answer.apiVersion, metadata: { resourceVersion: answer.metadata?.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } } };
  return [...items.map((object) => ({ type: 'ADDED', object })), { type: 'BOOKMARK', object: bookmark }].map((event) => `${JSON.stringify(event)}\n`).join('');
}

/** A watch request (answered after the same authentication and authorisation as its list). */
function isWatchQuery(url: URL): boolean {
  return url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
}

/** A meta/v1 Status error, as kube-apiserver answers it. */
export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): { code: number; body: object } {
  return { code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details && { details }), code } };
}

function randomWord(): string {
  return Math.random().toString(36).slice(2, 10);
}
