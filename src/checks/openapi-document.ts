import { parseDocument as parseYaml } from 'yaml';
import { z } from 'zod';

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

/** JSON or YAML by content type; without one that says, JSON first, then YAML. */
export function parseDocument(body: string, contentType: string | undefined): ParsedDocument {
  const type = (contentType ?? '').toLowerCase();
  const shown = contentType === undefined ? 'no content-type' : (contentType.split(';')[0] ?? contentType).trim();
  let read: Read;
  if (type.includes('json')) read = readJson(body);
  else if (type.includes('yaml') || type.includes('yml')) read = readYaml(body);
  else {
    const json = readJson(body);
    const yaml = 'error' in json ? readYaml(body) : json;
    // Report the error of the syntax the body looks like.
    read = 'error' in yaml && /^\s*[{[]/.test(body) ? json : yaml;
  }
  if ('error' in read) return { error: `document (${shown}) is not valid ${read.format === 'json' ? 'JSON' : 'YAML'}: ${read.error}` };
  const value = read.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = value === null ? 'empty' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return { error: `document (${shown}) is not an OpenAPI document: it is ${what}, not an object` };
  }
  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `document (${shown}) is not an OpenAPI document: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}` };
  }
  const doc = parsed.data;
  const version = doc.openapi ?? doc.swagger;
  if (version === undefined) {
    const keys = Object.keys(value).slice(0, 5).join(', ');
    return { error: `document (${shown}) is not an OpenAPI document: no openapi or swagger field (top-level keys: ${keys || 'none'})` };
  }
  const paths = new Map<string, Set<string>>();
  for (const [key, item] of Object.entries(doc.paths ?? {})) {
    const methods = item !== null && typeof item === 'object' ? Object.keys(item).filter((k) => METHODS.has(k)) : [];
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

type Read = { value: unknown; format: 'json' | 'yaml' } | { error: string; format: 'json' | 'yaml' };

function readJson(body: string): Read {
  try {
    return { value: JSON.parse(body) as unknown, format: 'json' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node 20 and 24 word the position differently; say it one way, as line and column.
    const position = /at position (\d+)/.exec(message)?.[1];
    // V8 quotes the body around the error (`, ..."{"token": abc"... is not valid JSON`): cut
    // mid-value, an echoed secret there escapes the whole-value scrub. The body is never quoted.
    const base = message.replace(/(?:,\s*)?(?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/^JSON\.parse: /, '') || 'not JSON';
    const offset = position === undefined ? (/end of JSON input/.test(message) ? body.length : undefined) : Number(position);
    return { error: offset === undefined ? base : `${base} ${at(body, offset)}`, format: 'json' };
  }
}

function readYaml(body: string): Read {
  try {
    const doc = parseYaml(body, { prettyErrors: false });
    const [first] = doc.errors;
    if (first) return { error: `${withoutSource(first.message)} ${at(body, first.pos[0])}`, format: 'yaml' };
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, format: 'yaml' };
  } catch (err) {
    return { error: withoutSource(err instanceof Error ? err.message : String(err)), format: 'yaml' };
  }
}

/** yaml ends some messages with the offending token (`...stream: "y"`, `...alias): name`): the body is never quoted. */
function withoutSource(message: string): string {
  return message.replace(/:\s+\S.*$/s, '');
}

/** "at line 3, column 5" (both from 1) for an offset into the text. */
function at(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return `at line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}
