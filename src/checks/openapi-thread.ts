import { createRequire } from 'node:module';
import { createOffThread, type OffThread } from '../text/off-thread.js';

/*
 * Reads an OpenAPI document's text (JSON or YAML) on a worker thread (see text/off-thread.ts): the
 * yaml package parses about 1.6 s per MB, so a 5 MB YAML document held the event loop for
 * seconds (and with its duplicate-key check, quadratic in a map's size, a 400 KB one for 5.7 s:
 * keys are not checked for uniqueness here, as JSON.parse does not, the last one wins). Only the
 * fields the check reads come back: version fields, info.title and info.version, basePath,
 * servers' URLs, and each path's method names; never the rest of the document. Parse errors
 * come back as a position, never quoting the body (an echoed secret could stand there).
 */

const SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const YAML = require(workerData.yaml);
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

function at(text, offset) {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return 'at line ' + line + ', column ' + (end - start + 1);
}

// yaml ends some messages with the offending token: the body is never quoted.
function withoutSource(message) {
  return message.replace(/:\s+\S.*$/s, '');
}

function readJson(body) {
  try {
    return { value: JSON.parse(body), format: 'json' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node 20 and 24 word the position differently; V8 quotes the body around the error.
    const position = /at position (\d+)/.exec(message);
    const base = message.replace(/(?:,\s*)?(?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/^JSON\.parse: /, '') || 'not JSON';
    const offset = position === null ? (/end of JSON input/.test(message) ? body.length : undefined) : Number(position[1]);
    return { error: offset === undefined ? base : base + ' ' + at(body, offset), format: 'json' };
  }
}

function readYaml(body) {
  try {
    const doc = YAML.parseDocument(body, { prettyErrors: false, uniqueKeys: false });
    const first = doc.errors[0];
    if (first) return { error: withoutSource(first.message) + ' ' + at(body, first.pos[0]), format: 'yaml' };
    return { value: doc.toJS({ maxAliasCount: 100 }), format: 'yaml' };
  } catch (err) {
    return { error: withoutSource(err instanceof Error ? err.message : String(err)), format: 'yaml' };
  }
}

function read(body, kind) {
  if (kind === 'json') return readJson(body);
  if (kind === 'yaml') return readYaml(body);
  const json = readJson(body);
  if (!('error' in json)) return json;
  const yaml = readYaml(body);
  // Report the error of the syntax the body looks like.
  return 'error' in yaml && /^\s*[{[]/.test(body) ? json : yaml;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function prune(value) {
  if (!isObject(value)) return { shape: value === null || value === undefined ? 'empty' : Array.isArray(value) ? 'a list' : 'a ' + typeof value };
  const fields = {};
  for (const key of ['openapi', 'swagger', 'basePath']) if (key in value) fields[key] = value[key];
  if ('info' in value) fields.info = isObject(value.info) ? { title: value.info.title, version: value.info.version } : value.info;
  if ('servers' in value) fields.servers = Array.isArray(value.servers) ? value.servers.map((s) => (isObject(s) ? { url: s.url } : s)) : value.servers;
  if ('paths' in value) {
    fields.paths = isObject(value.paths)
      ? Object.fromEntries(Object.entries(value.paths).map(([path, item]) => [path, isObject(item) ? Object.keys(item).filter((k) => METHODS.has(k)) : []]))
      : value.paths;
  }
  return { shape: 'object', topKeys: Object.keys(value).slice(0, 5), fields };
}

parentPort.on('message', ({ id, input }) => {
  try {
    const r = read(input.body, input.kind);
    parentPort.postMessage({ id, output: 'error' in r ? r : { format: r.format, ...prune(r.value) } });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

let thread: OffThread | undefined;

/** The document's text read as `kind` (or JSON, then YAML), pruned to what the check reads; the thread's answer, unchecked. */
export function readOffThread(body: string, kind: 'json' | 'yaml' | 'auto', signal: AbortSignal): Promise<unknown> {
  thread ??= createOffThread('OpenAPI document reading', SOURCE, { workerData: { yaml: createRequire(import.meta.url).resolve('yaml') }, maxHeapMb: 512 });
  return thread.run({ body, kind }, signal);
}
