import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isScalar, parseAllDocuments, type YAMLMap } from 'yaml';
import { CheckFailure } from '../result.js';

/**
 * The key names of a SOPS-encrypted file, read without decrypting anything: SOPS encrypts values
 * and leaves keys in clear (getsops/sops: stores/yaml, stores/json, stores/dotenv). The file's
 * format follows its extension as sops decides it: .json, .env, else YAML.
 * - A Kubernetes Secret manifest (top-level `kind` with `data` and/or `stringData`; `kind` is
 *   recognised by its key alone, as sops encrypts its value unless encrypted_regex spares it):
 *   the keys of `data` and `stringData`.
 * - Any other YAML/JSON document: its top-level keys.
 * - dotenv: the KEY of each KEY=VALUE line.
 * SOPS's own metadata (the `sops:` block, `sops_*` dotenv lines) is never a key. Values are
 * parsed as the YAML parser must, but never read: only keys leave this module, and parser
 * errors are reported by position and code, never with the text around them.
 */

export type SopsFormat = 'yaml' | 'json' | 'dotenv';

export interface SopsKeys {
  format: SopsFormat;
  /** What the keys were taken from. */
  shape: 'secret-manifest' | 'document' | 'dotenv';
  keys: string[];
}

const MAX_BYTES = 4 * 1024 * 1024;

export async function readSopsKeys(path: string, signal: AbortSignal): Promise<SopsKeys> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal.aborted) throw err;
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new CheckFailure('config', `expect.keysFrom ${path} cannot be read (${code})`);
  }
  if (text.length > MAX_BYTES) throw new CheckFailure('config', `expect.keysFrom ${path} is over 4 MiB: not a Secret's source`);
  const extension = extname(path).toLowerCase();
  const format: SopsFormat = extension === '.json' ? 'json' : extension === '.env' ? 'dotenv' : 'yaml';
  return format === 'dotenv' ? dotenvKeys(text, path) : documentKeys(text, path, format);
}

function dotenvKeys(text: string, path: string): SopsKeys {
  const keys: string[] = [];
  let encrypted = false;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) continue;
    const key = trimmed.slice(0, equals).trim();
    if (key.startsWith('sops_')) encrypted = true;
    else keys.push(key);
  }
  if (!encrypted) throw notSops(path);
  return { format: 'dotenv', shape: 'dotenv', keys: unique(keys) };
}

function documentKeys(text: string, path: string, format: SopsFormat): SopsKeys {
  // JSON is YAML: one parser, one way of reading keys. Errors keep their position and code only.
  const list = [...parseAllDocuments(text, { prettyErrors: true })];
  const failed = list.flatMap((d) => d.errors)[0];
  if (failed) {
    const at = failed.linePos?.[0];
    throw new CheckFailure('config', `expect.keysFrom ${path}${at ? `:${at.line}:${at.col}` : ''}: not valid ${format === 'json' ? 'JSON' : 'YAML'} (${failed.code})`);
  }
  if (list.length !== 1) throw new CheckFailure('config', `expect.keysFrom ${path} holds ${list.length} documents, expected one`);
  const root = list[0]?.contents;
  if (!isMap(root)) throw new CheckFailure('config', `expect.keysFrom ${path} is not a mapping of keys`);
  const top = keysOf(root);
  if (!top.includes('sops')) throw notSops(path);
  const manifest = top.includes('kind') && (top.includes('data') || top.includes('stringData'));
  if (!manifest) return { format, shape: 'document', keys: top.filter((key) => key !== 'sops') };
  const keys = ['data', 'stringData'].flatMap((section) => {
    const node = root.get(section, true);
    return isMap(node) ? keysOf(node) : [];
  });
  return { format, shape: 'secret-manifest', keys: unique(keys) };
}

/** The scalar keys of a mapping; the values are not touched. */
function keysOf(map: YAMLMap): string[] {
  return map.items.flatMap((pair) => (isScalar(pair.key) && (typeof pair.key.value === 'string' || typeof pair.key.value === 'number') ? [String(pair.key.value)] : []));
}

function unique(keys: string[]): string[] {
  return [...new Set(keys)].sort();
}

function notSops(path: string): CheckFailure {
  return new CheckFailure('config', `expect.keysFrom ${path} has no sops metadata: not a SOPS-encrypted file`);
}
