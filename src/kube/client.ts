import type { KubeConfig } from '@kubernetes/client-node';
import { Client } from 'undici';
import type { z } from 'zod';
import { errorCode } from '../results/classify.js';
import { REDACTED, scrubForms } from '../results/secret-forms.js';
import { scrubberFor, type Scrubber } from '../results/result-bounds.js';
import { CheckFailure } from '../results/result.js';
import { describeIssues, failureForListStatus, failureForStatus, parseStatus, statusSchema, type ApiStatus } from './api-error.js';
import { loadClientNode } from './client-node.js';
import { credentials } from './credentials.js';
import { shapeOf, withKeys } from './json-shape.js';
import { parseAnswer } from './json-thread.js';
import { apiPath, describeGet, describeList, listPath, type CollectionRef, type ListQuery, type ObjectRef } from './object-ref.js';
import { cutText } from './text-bounds.js';
import { describeSource, type ResolvedSource } from './source.js';

/** An API object larger than this is not something a check should read. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A check's RunContext fits: the run's signal, its debug trace, and where its credentials are registered. */
export interface GetOptions {
  signal: AbortSignal;
  trace?(step: string, data?: Record<string, unknown>): void;
  /** Registers a credential the request presents (token, Basic header, client key), so the run's result is scrubbed of it. */
  redact(value: string): void;
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

  /** One GET on a fresh connection; the body goes to `parse` (2xx) or, as a Status, to `fail` (anything else) and nowhere else. */
  const request = async <T>(path: string, what: string, accept: string | undefined, options: GetOptions, fail: (code: number, status: ApiStatus | undefined, scrub: Scrubber) => CheckFailure, parse: (body: Uint8Array) => Promise<T>): Promise<T> => {
    const { connect, headers, secrets } = await credentials(config, source);
    for (const secret of secrets) options.redact(secret);
    const scrub = scrubberFor(secrets.flatMap(scrubForms), REDACTED);
    const client = new Client(server.origin, { connect, maxResponseSize: MAX_RESPONSE_BYTES });
    options.trace?.('kube request', { request: what, path, source });
    try {
      const response = await client.request({ method: 'GET', path: basePath + path, headers: accept === undefined ? headers : { ...headers, accept }, signal: options.signal });
      const body = await readBody(response.body);
      options.trace?.('kube response', { status: response.statusCode });
      if (response.statusCode < 200 || response.statusCode > 299) {
        const answer = await parseAnswer(body, shapeOf(statusSchema), options.signal);
        throw fail(response.statusCode, 'value' in answer ? parseStatus(answer.value) : undefined, scrub);
      }
      return await parse(body);
    } catch (err) {
      // The runner scrubs results of what was registered above; the failure is scrubbed here too,
      // so no caller of the client ever holds a message quoting the credentials.
      throw err instanceof CheckFailure ? scrubbed(err, scrub) : err;
    } finally {
      await client.destroy();
    }
  };

  return {
    source,
    get(ref, schema, options) {
      const what = describeGet(ref);
      return request(apiPath(ref), what, undefined, options, (code, status, scrub) => failureForStatus(code, status, ref, source, scrub), (body) => parseObject(body, what, schema, options.signal, ref));
    },
    list(ref, query, schema, options) {
      const what = describeList(ref, query);
      const accept = query.metadataOnly ? METADATA_LIST : undefined;
      return request(listPath(ref, query), what, accept, options, (code, status, scrub) => failureForListStatus(code, status, ref, query, source, scrub), (body) => parseObject(body, what, schema, options.signal));
    },
  };
}

/**
 * Parses an answer with `schema` (a large one off the event loop: json-thread.ts); a single
 * object (`ref` given) must first be of the kind asked for.
 */
async function parseObject<T>(body: Uint8Array, what: string, schema: z.ZodType<T>, signal: AbortSignal, ref?: ObjectRef): Promise<T> {
  const shape = ref ? withKeys(shapeOf(schema), ['apiVersion', 'kind']) : shapeOf(schema);
  const answer = await parseAnswer(body, shape, signal);
  if ('refused' in answer) throw new CheckFailure('error', `${what}: ${answer.refused}`);
  const json = answer.value;
  if (ref) checkKind(json, ref, what);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CheckFailure('error', `${what}: unexpected object shape: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * kube-apiserver always names an object's kind and apiVersion. Another kind at the path (a
 * Service behind a misrouted proxy, a StatefulSet, another operator's Cluster) could otherwise
 * fit the schema and be judged as the kind asked for.
 */
function checkKind(json: unknown, ref: ObjectRef, what: string): void {
  const expected = `${ref.group === '' ? '' : `${ref.group}/`}${ref.version} ${ref.apiKind}`;
  const field = (name: string) => {
    const value: unknown = typeof json === 'object' && json !== null ? Reflect.get(json, name) : undefined;
    return typeof value === 'string' ? cutText(value, 100) : undefined;
  };
  const apiVersion = field('apiVersion');
  const kind = field('kind');
  if (`${apiVersion ?? ''} ${kind ?? ''}` === expected) return;
  const answered = apiVersion === undefined || kind === undefined ? 'an object without kind and apiVersion' : withArticle(`${apiVersion} ${kind}`);
  throw new CheckFailure('error', `${what}: the API server answered ${answered}, expected ${withArticle(expected)}`);
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * The body's bytes in one buffer of their own, undecoded: a large one is moved to the JSON
 * thread as it is, and decoded there (json-thread.ts).
 */
async function readBody(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** The failure with every form of the request's credentials replaced. */
function scrubbed(failure: CheckFailure, scrub: Scrubber): CheckFailure {
  const message = scrub(failure.message);
  return message === failure.message ? failure : new CheckFailure(failure.reason, message);
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
    // The first line only, cut: a YAML error goes on to quote the file, token lines included.
    const why = code ?? (err instanceof Error ? cutText(err.message.split('\n')[0] ?? '', 300) : 'unreadable');
    throw new CheckFailure('config', `${source} cannot be read (${why})`);
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
