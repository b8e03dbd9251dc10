import { z } from 'zod';
import { readOffThread } from './openapi-thread.js';

/**
 * Reading an OpenAPI 3.x or Swagger 2.0 document for the openapi check: JSON or YAML, only the
 * fields the check reports (version, info, paths and their methods), with parse errors that
 * name the line and column instead of throwing.
 */
export interface OpenapiDocument {
  specification: 'openapi' | 'swagger';
  /** The `openapi` or `swagger` field (3.0.3, 3.1.0, 2.0). */
  version: string;
  title?: string;
  /** info.version: the API's own version. */
  apiVersion?: string;
  /** The document's path keys -> the methods (lower case) each declares. */
  paths: Map<string, Set<string>>;
  /** Where the paths are mounted: "" and the path of Swagger's basePath or of each OpenAPI server URL. */
  prefixes: string[];
}

export type ParsedDocument = { document: OpenapiDocument; format: 'json' | 'yaml' } | { error: string };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

// YAML reads an unquoted 3.1 or 2.0 as a number.
const versionText = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'string' ? v : Number.isInteger(v) ? `${v}.0` : String(v)));
const documentSchema = z.object({
  openapi: versionText.optional(),
  swagger: versionText.optional(),
  info: z.object({ title: z.string().optional(), version: versionText.optional() }).optional(),
  basePath: z.string().optional(),
  servers: z.array(z.object({ url: z.string() })).optional(),
  paths: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** What the reading thread answers (openapi-thread.ts). */
const readSchema = z.union([
  z.object({ error: z.string(), format: z.enum(['json', 'yaml']) }),
  z.object({ format: z.enum(['json', 'yaml']), shape: z.literal('object'), topKeys: z.array(z.string()), fields: z.record(z.string(), z.unknown()) }),
  z.object({ format: z.enum(['json', 'yaml']), shape: z.string() }),
]);

/**
 * JSON or YAML by content type; without one that says, JSON first, then YAML. Read on a worker
 * thread (large YAML takes seconds), which the signal stops.
 */
export async function readDocument(body: string, contentType: string | undefined, signal: AbortSignal): Promise<ParsedDocument> {
  const type = (contentType ?? '').toLowerCase();
  const shown = contentType === undefined ? 'no content-type' : (contentType.split(';')[0] ?? contentType).trim();
  const kind = type.includes('json') ? 'json' : type.includes('yaml') || type.includes('yml') ? 'yaml' : 'auto';
  const read = readSchema.parse(await readOffThread(body, kind, signal));
  if ('error' in read) return { error: `document (${shown}) is not valid ${read.format === 'json' ? 'JSON' : 'YAML'}: ${read.error}` };
  if (!('fields' in read)) return { error: `document (${shown}) is not an OpenAPI document: it is ${read.shape}, not an object` };
  const value = read.fields;
  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `document (${shown}) is not an OpenAPI document: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}` };
  }
  const doc = parsed.data;
  const version = doc.openapi ?? doc.swagger;
  if (version === undefined) {
    const keys = read.topKeys.join(', ');
    return { error: `document (${shown}) is not an OpenAPI document: no openapi or swagger field (top-level keys: ${keys || 'none'})` };
  }
  const paths = new Map<string, Set<string>>();
  for (const [key, item] of Object.entries(doc.paths ?? {})) {
    const methods = Array.isArray(item) ? item.filter((k): k is string => typeof k === 'string' && METHODS.has(k)) : [];
    paths.set(key, new Set(methods));
  }
  const mounts = doc.openapi === undefined ? [doc.basePath ?? ''] : (doc.servers ?? []).map((server) => serverPath(server.url));
  return {
    format: read.format,
    document: {
      specification: doc.openapi === undefined ? 'swagger' : 'openapi',
      version,
      ...(doc.info?.title !== undefined && { title: doc.info.title }),
      ...(doc.info?.version !== undefined && { apiVersion: doc.info.version }),
      paths,
      prefixes: [...new Set(['', ...mounts.map((m) => m.replace(/\/+$/, ''))])],
    },
  };
}

/**
 * The required entries ("/api/v2/hubs" or "GET /api/v2/hubs") the document lacks, as written. A
 * path matches a document path as is or under a basePath / server URL path; parameter names do
 * not matter ({id} matches {hubId}).
 */
export function findMissing(document: OpenapiDocument, required: readonly string[]): string[] {
  const index = new Map<string, Set<string>>();
  for (const [key, methods] of document.paths) {
    for (const prefix of document.prefixes) {
      const full = normalisePath(prefix + key);
      index.set(full, new Set([...(index.get(full) ?? []), ...methods]));
    }
  }
  return required.filter((entry) => {
    const match = /^([A-Za-z]+)\s+(\S+)$/.exec(entry);
    const method = match?.[1]?.toLowerCase();
    const found = index.get(normalisePath(match?.[2] ?? entry));
    return found === undefined || (method !== undefined && !found.has(method));
  });
}

/** Safe to trace: facts about the document, never its content. */
export function describeDocument(document: OpenapiDocument): Record<string, unknown> {
  return { specification: document.specification, version: document.version, title: document.title, apiVersion: document.apiVersion, pathCount: document.paths.size, prefixes: document.prefixes };
}

function normalisePath(path: string): string {
  return path.replace(/\{[^}]*\}/g, '{}').replace(/\/+$/, '') || '/';
}

/** The path of a server URL (absolute, relative, or with {variables} in the host). */
function serverPath(url: string): string {
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(url)?.[1] ?? (url.startsWith('/') ? url : '');
  return path.split(/[?#]/)[0] ?? '';
}
