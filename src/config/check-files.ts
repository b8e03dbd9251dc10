import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError, type Problem } from './problem.js';

/**
 * The largest check file read. A 10,000-check file is about 2 MB (bench/lib/checks-file.ts, in
 * flow or block style), so 8 MiB holds four of them. Parsing holds some 75 MB of heap per MB of
 * YAML: `validate` of a 7.9 MB, 45,000-check file peaked at 850 MB RSS (10,000 checks: 300 MB),
 * where the 50 MB file of issue 14 took 3.4 GB.
 */
export const MAX_CHECK_FILE_BYTES = 8 * 1024 * 1024;

/** Folders below a --checks folder that are read; deeper is reported, not walked. */
export const MAX_FOLDER_DEPTH = 16;

const CHECK_FILE = /\.ya?ml$/;

/** How a path appears in problems: relative to the working directory. */
export function showPath(path: string): string {
  return relative(process.cwd(), path) || path;
}

/**
 * The *.yaml / *.yml files named by paths: files as given, folders walked in name order. Hidden
 * entries are skipped (a mounted ConfigMap holds every file three times, as NAME -> ..data/NAME ->
 * ..2026_11_27_.../NAME). Symbolic links are followed, but each folder is read once: a link back
 * to a folder already read (a loop, or a second way to the same folder) is a problem, as is an
 * entry named *.yaml that is not a readable regular file.
 */
export async function findCheckFiles(paths: readonly string[], problems: Problem[]): Promise<string[]> {
  const files: string[] = [];
  const read = new Map<string, string>();
  for (const path of paths) {
    const { info, error } = await tryStat(path);
    if (!info) {
      problems.push(at(path, describeFsError(error, 'file or folder')));
      continue;
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found: string[] = [];
    await walk({ root: path, folder: path, depth: 0, ancestors: [], read, found, problems });
    files.push(...found.sort().map((e) => join(path, e)));
  }
  return files;
}

/** findCheckFiles for callers that only want the list: throws ConfigError on any problem. */
export async function listCheckFiles(paths: readonly string[]): Promise<string[]> {
  const problems: Problem[] = [];
  const files = await findCheckFiles(paths, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return files;
}

interface Walk {
  root: string;
  folder: string;
  depth: number;
  /** Real paths of the folders above this one, for loop messages. */
  ancestors: string[];
  /** Real path -> the path it was first read as. */
  read: Map<string, string>;
  /** Files found, relative to root. */
  found: string[];
  problems: Problem[];
}

async function walk(w: Walk): Promise<void> {
  const real = await realpath(w.folder).catch(() => w.folder);
  const first = w.read.get(real);
  if (first !== undefined) {
    const loop = w.ancestors.includes(real);
    w.problems.push(at(w.folder, loop ? `symbolic link loop: leads back to ${showPath(first)}` : `folder already read as ${showPath(first)} (each folder is read once)`));
    return;
  }
  if (w.depth > MAX_FOLDER_DEPTH) {
    w.problems.push(at(w.folder, `folders nested deeper than ${MAX_FOLDER_DEPTH} levels below ${showPath(w.root)} are not read`));
    return;
  }
  w.read.set(real, w.folder);
  const entries = await readdir(w.folder, { withFileTypes: true }).catch((err: unknown) => {
    w.problems.push(at(w.folder, describeFsError(err, 'folder')));
    return [];
  });
  // In name order, but linked folders after the real ones: a folder reached both ways is read,
  // and named in problems, by its own path.
  const linked: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(w.folder, entry.name);
    const wanted = CHECK_FILE.test(entry.name);
    const { info, error } = await tryStat(path);
    if (!info) {
      // A broken link or unreadable entry matters only where a check file was meant to be.
      if (wanted) w.problems.push(at(path, await describeMissing(path, error)));
    } else if (info.isDirectory() && !wanted) {
      if (entry.isSymbolicLink()) linked.push(path);
      else await walk({ ...w, folder: path, depth: w.depth + 1, ancestors: [...w.ancestors, real] });
    } else if (wanted) {
      const problem = notACheckFile(info);
      if (problem) w.problems.push(at(path, problem));
      else w.found.push(relative(w.root, path));
    }
  }
  for (const path of linked) await walk({ ...w, folder: path, depth: w.depth + 1, ancestors: [...w.ancestors, real] });
}

async function tryStat(path: string): Promise<{ info: Stats; error?: undefined } | { info?: undefined; error: unknown }> {
  try {
    return { info: await stat(path) };
  } catch (error) {
    return { error };
  }
}

function notACheckFile(info: Stats): string | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return 'is a folder, not a check file (a folder name must not end in .yaml or .yml)';
  return 'not a regular file';
}

async function describeMissing(path: string, err: unknown): Promise<string> {
  const link = await lstat(path).catch(() => undefined);
  if (link?.isSymbolicLink() && codeOf(err) === 'ENOENT') return 'broken symbolic link: its target does not exist';
  return describeFsError(err, 'file');
}

/**
 * Reads one check file, at most MAX_CHECK_FILE_BYTES of it; a problem and undefined when it
 * cannot be read or is too large. Opened non-blocking, so a FIFO given as a file does not hang.
 */
export async function readCheckFile(file: string, problems: Problem[]): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await handle.stat();
    const problem = notACheckFile(info);
    if (problem) {
      problems.push(at(file, problem));
      return undefined;
    }
    // The size is read again from the bytes: a file may grow between stat and read.
    const limit = MAX_CHECK_FILE_BYTES;
    const buffer = Buffer.alloc(Math.min(info.size, limit) + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) {
      ({ bytesRead: n } = await handle.read(buffer, length, buffer.length - length));
    }
    if (info.size > limit || length > limit) {
      problems.push(at(file, `file is ${formatBytes(Math.max(info.size, length))}, more than the ${formatBytes(limit)} a check file may have: split it into several files in a folder`));
      return undefined;
    }
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    problems.push(at(file, describeFsError(err, 'file')));
    return undefined;
  } finally {
    await handle?.close();
  }
}

function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return `${bytes.toLocaleString('en-US')} bytes${Number.isInteger(mib) ? ` (${mib} MiB)` : ''}`;
}

function at(path: string, message: string): Problem {
  return { file: showPath(path), line: 1, col: 1, path: '', message };
}

function codeOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function describeFsError(err: unknown, what: 'file' | 'folder' | 'file or folder'): string {
  switch (codeOf(err)) {
    case 'ENOENT':
      return `no such ${what}`;
    case 'EACCES':
    case 'EPERM':
      return `cannot be read: permission denied`;
    case 'ELOOP':
      return 'symbolic link loop: too many levels of symbolic links';
    case 'EISDIR':
      return 'is a folder, not a check file';
    case 'ENOTDIR':
      return `no such ${what} (a part of the path is not a folder)`;
    default:
      return `cannot be read (${codeOf(err) ?? (err instanceof Error ? err.message : String(err))})`;
  }
}
