import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isScalar, parseAllDocuments, type YAMLMap } from 'yaml';
import { CheckFailure } from '../results/result.js';
import { exceedsBounds, type YamlBounds } from '../text/yaml-bounds.js';

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

/** A Kubernetes Secret holds at most 1 MiB; its SOPS file (values in base64, with IV and tag) some more. */
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * What the YAML parser is given at most. A key and its value are some 8 lexer tokens, so 20,000
 * hold a Secret of some 2,500 keys; parsing that many takes some 100 ms of the event loop, once
 * per change of the file. A SOPS file nests 5 levels deep (sops.age[0].enc).
 */
const BOUNDS: YamlBounds = { depth: 64, tokens: 20_000 };

/** What one check keeps of its keysFrom file between runs, so an unchanged file is parsed once. */
export interface SopsKeysMemo {
  /** Device, inode, size, mtime and ctime (ns) of the file last parsed. */
  identity?: string;
  outcome?: SopsKeysOutcome;
}

export type SopsKeysOutcome = { keys: SopsKeys } | { failure: string };

/**
 * The file's keys, or why it has none (reason config), and whether it was parsed for this
 * answer or is unchanged since the memo's. A file that cannot be opened, is not a regular file
 * or is too large is refused before a byte of it is read.
 */
export async function readSopsKeys(path: string, signal: AbortSignal, memo: SopsKeysMemo = {}): Promise<SopsKeysOutcome & { parsed: boolean }> {
  const file = await readBounded(path, memo.outcome && memo.identity, signal);
  if (file.text === undefined && memo.outcome) return { ...memo.outcome, parsed: false };
  let outcome: SopsKeysOutcome;
  try {
    outcome = { keys: fileKeys(file.text ?? '', path) };
  } catch (err) {
    if (!(err instanceof CheckFailure)) throw err;
    outcome = { failure: err.message };
  }
  memo.identity = file.identity;
  memo.outcome = outcome;
  return { ...outcome, parsed: true };
}

/** Why a file is refused before the parser reads it (no text of the file, as with parse errors). */
const EXCESS = {
  depth: `nests mappings and lists too deep (at most some ${BOUNDS.depth / 2} levels are read)`,
  tokens: `holds more than ${BOUNDS.tokens.toLocaleString('en-US')} YAML tokens (a Secret of some 2,500 keys)`,
  control: 'holds a control character',
} as const;

function fileKeys(text: string, path: string): SopsKeys {
  const extension = extname(path).toLowerCase();
  const format: SopsFormat = extension === '.json' ? 'json' : extension === '.env' ? 'dotenv' : 'yaml';
  return format === 'dotenv' ? dotenvKeys(text, path) : documentKeys(text, path, format);
}

const CHUNK_BYTES = 256 * 1024;

/**
 * The file's text, at most MAX_BYTES of it, and its identity; no text when the identity is
 * `known` (the file has not changed). Opened non-blocking, so a FIFO does not hang the open.
 */
async function readBounded(path: string, known: string | undefined, signal: AbortSignal): Promise<{ identity: string; text?: string }> {
  const fail = (why: string) => new CheckFailure('config', `expect.keysFrom ${path} ${why}`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) throw fail(`is not a regular file (${info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : info.isCharacterDevice() ? 'a character device' : 'a special file'})`);
    if (info.size > MAX_BYTES) throw fail(`is over 4 MiB (${info.size.toLocaleString('en-US')} bytes): not a Secret's source`);
    const identity = [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(':');
    if (identity === known) return { identity };
    // Read in chunks to the cap and no further: a file may grow after the stat, and /proc files say 0 bytes.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= MAX_BYTES) {
      signal.throwIfAborted();
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, MAX_BYTES + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > MAX_BYTES) throw fail("grew over 4 MiB as it was read: not a Secret's source");
    return { identity, text: Buffer.concat(chunks, length).toString('utf8') };
  } catch (err) {
    if (err instanceof CheckFailure || signal.aborted) throw err;
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw fail(`cannot be read (${code})`);
  } finally {
    await handle?.close();
  }
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
  const name = format === 'json' ? 'JSON' : 'YAML';
  const excess = exceedsBounds(text, BOUNDS);
  if (excess) throw new CheckFailure('config', `expect.keysFrom ${path}:${excess.line}:${excess.col}: ${EXCESS[excess.what]}: not ${excess.what === 'control' ? `valid ${name}` : "a Secret's source"}`);
  // JSON is YAML: one parser, one way of reading keys. Errors keep their position and code only.
  // Duplicate keys are not looked for: yaml compares each key with every other (10,000 keys took
  // seconds), and key names are made unique below anyway.
  const list = [...parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false })];
  const failed = list.flatMap((d) => d.errors)[0];
  if (failed) {
    const at = failed.linePos?.[0];
    throw new CheckFailure('config', `expect.keysFrom ${path}${at ? `:${at.line}:${at.col}` : ''}: not valid ${name} (${failed.code})`);
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
