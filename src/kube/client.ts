import type { RequestOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { Client } from 'undici';
import type { z } from 'zod';
import { errorCode } from '../classify.js';
import { CheckFailure } from '../result.js';
import { describeIssues, failureForListStatus, failureForStatus, parseStatus } from './api-error.js';
import { loadClientNode } from './client-node.js';
import { apiPath, describeGet, describeList, listPath, type CollectionRef, type ListQuery, type ObjectRef } from './object-ref.js';
import { describeSource, type ResolvedSource } from './source.js';

/** An API object larger than this is not something a check should read. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A check's RunContext fits: the run's signal, and its debug trace. */
export interface GetOptions {
  signal: AbortSignal;
  trace?(step: string, data?: Record<string, unknown>): void;
}

/** Reads API objects with the credentials of one kubeconfig context or the service account. */
export interface KubeClient {
  /** Where the credentials come from, safe to show. */
  readonly source: string;
  /**
   * GETs one object and parses it with `schema`; non-2xx answers throw a CheckFailure (auth,
   * assertion for 404, error). The raw body never leaves this function: only what the schema
   * keeps is returned, which is how a Secret's values are dropped on arrival.
   */
  get<T>(ref: ObjectRef, schema: z.ZodType<T>, options: GetOptions): Promise<T>;
  /**
   * Lists one namespace's objects of a resource, selected by the server, and parses the List
   * with `schema` (failures as for get; a 404 means the resource is not served). RBAC: `list`.
   */
  list<T>(ref: CollectionRef, query: ListQuery, schema: z.ZodType<T>, options: GetOptions): Promise<T>;
}

/** kube-apiserver's content negotiation for metadata-only lists, falling back to a full list. */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json';

/**
 * Credentials come from client-node's KubeConfig (kubeconfig files, exec plugins, in-cluster
 * token refresh); the request itself goes through undici, because client-node 1.x's typed clients
 * neither take an AbortSignal per call nor expose status codes and Status bodies plainly.
 * client-node itself is imported here on first use (see loadClientNode).
 */
export async function createKubeClient(resolved: ResolvedSource): Promise<KubeClient> {
  const source = describeSource(resolved);
  const clientNode = await loadClientNode();
  const config = loadKubeConfig(clientNode.KubeConfig, resolved, source);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new CheckFailure('config', `${source}: no cluster for context "${config.getCurrentContext()}"`);
  if (cluster.proxyUrl) throw new CheckFailure('config', `${source}: proxy-url is not supported; reach the API server directly`);
  const server = new URL(cluster.server);
  const basePath = server.pathname.replace(/\/$/, '');

  /** One GET on a fresh connection; the body goes to `parse` (2xx) or `fail` (anything else) and nowhere else. */
  const request = async <T>(path: string, what: string, accept: string | undefined, options: GetOptions, fail: (code: number, body: string) => CheckFailure, parse: (body: string) => T): Promise<T> => {
    const { connect, headers } = await credentials(config, source);
    const client = new Client(server.origin, { connect, maxResponseSize: MAX_RESPONSE_BYTES });
    options.trace?.('kube request', { request: what, path, source });
    try {
      const response = await client.request({ method: 'GET', path: basePath + path, headers: accept === undefined ? headers : { ...headers, accept }, signal: options.signal });
      const body = await response.body.text();
      options.trace?.('kube response', { status: response.statusCode });
      if (response.statusCode < 200 || response.statusCode > 299) throw fail(response.statusCode, body);
      return parse(body);
    } finally {
      await client.destroy();
    }
  };

  return {
    source,
    get(ref, schema, options) {
      const what = describeGet(ref);
      return request(apiPath(ref), what, undefined, options, (code, body) => failureForStatus(code, parseStatus(body), ref, source), (body) => parseObject(body, what, schema));
    },
    list(ref, query, schema, options) {
      const what = describeList(ref, query);
      const accept = query.metadataOnly ? METADATA_LIST : undefined;
      return request(listPath(ref, query), what, accept, options, (code, body) => failureForListStatus(code, parseStatus(body), ref, query, source), (body) => parseObject(body, what, schema));
    },
  };
}

/**
 * TLS material and headers for one request, from client-node: CA, client certificate and key,
 * the Authorization header (re-reading a rotated service-account token, running exec plugins).
 * The https.Agent it also builds is left unused.
 */
async function credentials(config: KubeConfig, source: string): Promise<{ connect: ConnectionOptions; headers: Record<string, string> }> {
  const tls: RequestOptions = {};
  try {
    await config.applyToHTTPSOptions(tls);
  } catch (err) {
    throw new CheckFailure('config', `${source}: credentials cannot be read (${errorCode(err) ?? (err instanceof Error ? err.message : 'unknown error')})`);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [key, value] of Object.entries(tls.headers ?? {})) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (tls.auth) headers.authorization = `Basic ${Buffer.from(tls.auth).toString('base64')}`;
  const connect: ConnectionOptions = { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername };
  if (tls.rejectUnauthorized !== undefined) connect.rejectUnauthorized = tls.rejectUnauthorized;
  return { connect, headers };
}

function parseObject<T>(body: string, what: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CheckFailure('error', `${what}: the API server answered something that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CheckFailure('error', `${what}: unexpected object shape: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads kubeconfig files or the in-cluster layout; anything unusable is a config failure. */
function loadKubeConfig(KubeConfigClass: typeof KubeConfig, resolved: ResolvedSource, source: string): KubeConfig {
  const config = new KubeConfigClass();
  try {
    if (resolved.mode === 'in-cluster') {
      config.loadFromCluster(resolved.pathPrefix);
      return config;
    }
    const [first, ...rest] = resolved.files;
    if (first === undefined) throw new CheckFailure('config', 'no kubeconfig file');
    config.loadFromFile(first);
    // Later files add clusters, users and contexts but do not change the current context,
    // as kubectl merges a KUBECONFIG list.
    for (const file of rest) {
      const more = new KubeConfigClass();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
  } catch (err) {
    if (err instanceof CheckFailure) throw err;
    const code = errorCode(err);
    const why = code ?? (err instanceof Error ? err.message.split('\n')[0] : 'unreadable');
    throw new CheckFailure('config', `${source} cannot be read (${why ?? 'unreadable'})`);
  }
  if (resolved.context !== undefined) {
    if (!config.getContextObject(resolved.context)) {
      const known = config.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new CheckFailure('config', `${source}: no context "${resolved.context}" (contexts: ${known})`);
    }
    config.setCurrentContext(resolved.context);
  }
  return config;
}
