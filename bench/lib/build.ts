import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (bench/lib/ is two levels down). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Entry points compiled beside src/, run by node without tsx (tsx's loader thread would add memory and skew RSS). */
const ENTRIES = ['bench/lib/serve-cli.ts', 'bench/lib/daemon-host.ts', 'bench/lib/raw-client.ts', 'bench/lib/minimal-server.ts'] as const;

export interface Build {
  /** Directory that mirrors the repository: out/src/..., out/bench/lib/... */
  out: string;
  entry(path: (typeof ENTRIES)[number]): string;
  /** Short content hash of what was compiled. */
  hash: string;
  typeErrors: number;
}

/**
 * Compiles the current src/ and the bench entry points with tsc into a temp dir keyed by a hash
 * of their sources, so a benchmark measures exactly the working tree (not a stale dist/) and a
 * second run reuses the build. Type errors elsewhere in the tree do not stop the emit.
 */
export async function buildForBench(log: (line: string) => void): Promise<Build> {
  const files = [...(await listTs(join(ROOT, 'src'))), ...(await listTs(join(ROOT, 'bench', 'lib'))), join(ROOT, 'tsconfig.json'), join(ROOT, 'package.json')];
  const hasher = createHash('sha256');
  for (const file of files.sort()) hasher.update(relative(ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  const hash = hasher.digest('hex').slice(0, 16);
  const base = join(tmpdir(), 'driftwatch-bench-build');
  const dir = join(base, hash);
  const out = join(dir, 'out');
  const entry: Build['entry'] = (path) => join(out, path.replace(/\.ts$/, '.js'));
  const marker = join(dir, 'complete.json');
  if (existsSync(marker)) {
    const { typeErrors } = JSON.parse(await readFile(marker, 'utf8')) as { typeErrors: number };
    log(`build: reusing ${dir}`);
    return { out, entry, hash, typeErrors };
  }
  // Builds of older trees are of no use; a day-old one is surely not in use by another run.
  if (existsSync(base)) {
    for (const old of await readdir(base)) {
      const path = join(base, old);
      if (Date.now() - (await stat(path)).mtimeMs > 24 * 3600_000) await rm(path, { recursive: true, force: true });
    }
  }
  // A build without its marker was cut off (a benchmark interrupted while compiling): start it again.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsconfig = join(dir, 'tsconfig.bench.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { rootDir: ROOT, outDir: out, noEmit: false, sourceMap: false, declaration: false, incremental: false },
      include: [join(ROOT, 'src'), ...ENTRIES.map((e) => join(ROOT, e))],
      exclude: [join(ROOT, 'src/**/*.test.ts')],
    }),
  );
  log('build: compiling src/ and the bench entry points with tsc (about 20 s of CPU)...');
  const started = Date.now();
  let typeErrors = 0;
  try {
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    // tsc exits 2 on type errors but still writes the output.
    const stdout = typeof err === 'object' && err !== null && 'stdout' in err ? String(err.stdout) : '';
    typeErrors = (stdout.match(/error TS\d+/g) ?? []).length;
    if (typeErrors === 0) throw err;
    log(`build: tsc reported ${typeErrors} type errors in the working tree (emitted anyway); first: ${stdout.split('\n')[0] ?? ''}`);
  }
  for (const path of ENTRIES) if (!existsSync(entry(path))) throw new Error(`build: ${path} was not emitted`);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name?: string; version?: string };
  await writeFile(join(out, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }));
  await writeFile(marker, JSON.stringify({ typeErrors, seconds: (Date.now() - started) / 1000 }));
  log(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { out, entry, hash, typeErrors };
}

async function listTs(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listTs(path)));
    else if (entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}
