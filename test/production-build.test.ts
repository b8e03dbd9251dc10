import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collect } from './support/cli.js';
import { startTcpPeer } from './support/tcp-peer.js';
import { freePort } from './support/ports.js';

/**
 * The production build without Docker: the build stage's COPY and RUN steps of the Dockerfile
 * (npm run build, npm run package:prod) in a temporary copy of the repository, then the packaged
 * app, production dependencies only, started the way the image and the chart start it: as an
 * unprivileged user, with a read-only, root-owned checks folder, the API token as a file, a
 * read-only working directory. The Dockerfile itself is checked statically (no Docker engine here).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface Stage {
  from: string;
  name: string | undefined;
  instructions: { op: string; args: string }[];
}

describe('production build', { timeout: 60_000 }, () => {
  let work: string;
  let app: string;
  let stages: Stage[];
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    stages = parseDockerfile(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
    peer = await startTcpPeer();
    work = await mkdtemp(join(tmpdir(), 'driftwatch-prod-'));
    // mkdtemp makes 0700 folders; the unprivileged user must reach the app inside.
    await chmod(work, 0o755);
    const source = join(work, 'src');
    app = join(work, 'app');
    await mkdir(source);
    const [build] = stages;
    for (const { op, args } of build?.instructions ?? []) {
      if (op !== 'COPY') continue;
      const paths = args.split(/\s+/);
      for (const path of paths.slice(0, -1)) await cp(join(ROOT, path), join(source, path), { recursive: true });
    }
    // The build stage's `npm ci` (with dev dependencies) is the lockfile's install this checkout
    // already has: link it instead of downloading it again.
    await symlink(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
    const env = { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' };
    // At the lowest CPU priority: test files running beside this one keep their timing.
    await run('nice', ['-n', '19', 'npm', 'run', 'build'], { cwd: source, env, timeout: 170_000 });
    await run('nice', ['-n', '19', 'npm', 'run', 'package:prod', '--', app], { cwd: source, env, timeout: 170_000 });
  }, 360_000);

  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await peer.close();
    await rm(work, { recursive: true, force: true });
  });

  it('the Dockerfile builds with npm scripts and ships a non-root, shell-free Node 24 image', async () => {
    expect(stages).toHaveLength(2);
    const [build, runtime] = stages as [Stage, Stage];
    expect(build).toMatchObject({ from: 'node:24-slim', name: 'build' });
    expect(build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args)).toEqual(['npm ci --no-audit --no-fund', 'npm run build', 'npm run package:prod -- /app']);
    expect(Object.keys(await packageField('scripts'))).toEqual(expect.arrayContaining(['build', 'package:prod']));

    expect(runtime.from).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12(:nonroot)?$|^node:24(-bookworm)?-slim$/);
    const ops = (op: string) => runtime.instructions.filter((i) => i.op === op).map((i) => i.args);
    // No RUN: the distroless runtime has no shell to run it with.
    expect(ops('RUN')).toEqual([]);
    expect(ops('COPY')).toEqual(['--from=build /app /app']);
    const [user] = ops('USER');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const [entrypoint] = ops('ENTRYPOINT');
    // serve listens on 127.0.0.1 by default: the image must listen on its interfaces to be reachable.
    expect(JSON.parse(entrypoint ?? 'null')).toEqual(['/nodejs/bin/node', '/app/bin/driftwatch.js', 'serve', '--listen', '0.0.0.0:9147']);
    expect(JSON.parse(ops('CMD')[0] ?? 'null')).toEqual(['--checks', '/etc/driftwatch/checks']);
    const labels = ops('LABEL').join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'created']) expect(labels).toContain(`org.opencontainers.image.${key}=`);

    // The context keeps out local installs and builds, and keeps in what the build stage copies.
    const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
    const copied = build.instructions.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied.filter((path) => ignored.includes(path))).toEqual([]);
  });

  it('packages production dependencies only', async () => {
    expect((await readdir(app)).sort()).toEqual(['bin', 'dist', 'node_modules', 'package-lock.json', 'package.json']);
    // npm records what it installed in node_modules/.package-lock.json; the repository lockfile
    // marks the packages only development needs with dev: true.
    const installed = Object.keys(await lockPackages(join(app, 'node_modules/.package-lock.json')));
    const locked = await lockPackages(join(ROOT, 'package-lock.json'));
    const devOnly = installed.filter((path) => record(locked[path]).dev === true);
    expect(devOnly).toEqual([]);
    for (const name of ['typescript', 'vitest', 'eslint', 'tsx']) expect(installed).not.toContain(`node_modules/${name}`);
    for (const name of Object.keys(await packageField('dependencies'))) expect(installed).toContain(`node_modules/${name}`);
  });

  it('runs as an unprivileged user with read-only checks, serves /readyz and probes, and exits 0 on SIGTERM', async () => {
    // Like the chart: root-owned, read-only config; the process may read but never write it.
    const config = join(work, 'etc');
    const checks = join(config, 'checks');
    const token = join(work, 'token');
    await mkdir(checks, { recursive: true });
    await writeFile(join(checks, 'loopback.yaml'), [
      'checks:',
      `  - { name: loopback-up, type: tcp, host: 127.0.0.1, port: ${peer.port}, interval: 2s, timeout: 1s }`,
      `  - { name: loopback-closed, type: tcp, host: 127.0.0.1, port: ${peer.closedPort}, interval: 2s, timeout: 1s }`,
      '',
    ].join('\n'));
    await mkdir(token);
    await writeFile(join(token, 'token'), 'prod-build-canary-token\n');
    for (const file of [join(checks, 'loopback.yaml'), join(token, 'token')]) await chmod(file, 0o444);
    for (const dir of [checks, config, token]) await chmod(dir, 0o555);

    const port = await freePort();
    // The image's entrypoint (its --listen 0.0.0.0:9147 included), then arguments as `docker run IMAGE ...`
    // passes them: the later --listen wins, so the test's own port on loopback is used.
    const entrypoint = z.array(z.string()).parse(JSON.parse(stages[1]?.instructions.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]'));
    expect(entrypoint.slice(1, 3)).toEqual(['/app/bin/driftwatch.js', 'serve']);
    const args = [join(app, 'bin/driftwatch.js'), ...entrypoint.slice(2), '--checks', checks, '--listen', `127.0.0.1:${port}`, '--api-token-file', join(token, 'token'), '--grace', '2s', '--log-level', 'info'];
    const asRoot = process.getuid?.() === 0;
    const node = asRoot ? await nodeForNobody(work) : process.execPath;
    // setpriv execs in place (runuser would fork and stand between the signal and the daemon).
    const [command, commandArgs] = asRoot ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--no-new-privs', '--', node, ...args]] as const : [node, args] as const;
    child = spawn(command, commandArgs, { cwd: config, env: { PATH: process.env.PATH, HOME: '/nonexistent', NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = collect(child, 45_000);

    const base = `http://127.0.0.1:${port}`;
    const ready = await waitFor(async () => child?.exitCode !== null || (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 20_000).catch(() => false);
    if (!ready || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the daemon did not get ready: ${(await exited).stderr}`);
    }
    expect(uidOf(await readFile(`/proc/${child.pid}/status`, 'utf8'))).not.toBe(0);
    await waitFor(async () => {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      return /driftwatch_check_success\{[^}]*check="loopback-up"[^}]*\} 1/.test(metrics) && /driftwatch_check_success\{[^}]*check="loopback-closed"[^}]*\} 0/.test(metrics);
    }, 15_000);
    // The token file was read: /probe refuses callers without it.
    expect((await fetch(`${base}/probe?check=loopback-up`)).status).toBe(401);
    const probe = await fetch(`${base}/probe?check=loopback-up`, { headers: { authorization: 'Bearer prod-build-canary-token' } });
    expect(await probe.json()).toMatchObject({ name: 'loopback-up', ok: true });

    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('"msg":"stopped"');
    expect(result.stderr).toContain(`"address":"127.0.0.1:${port}"`);
    expect(result.stderr).not.toContain('prod-build-canary-token');
    expect((await readdir(checks)).sort()).toEqual(['loopback.yaml']);
  });
});

async function lockPackages(file: string): Promise<Record<string, unknown>> {
  return record(record(JSON.parse(await readFile(file, 'utf8'))).packages);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}

async function packageField(field: string): Promise<Record<string, unknown>> {
  return record(record(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')))[field]);
}

/** Stages of a Dockerfile with ARG defaults substituted into FROM; continuation lines joined. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
    } else if (upper === 'FROM') {
      const [image = '', , name] = rest.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? '').split(/\s+/);
      stages.push({ from: image, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: upper, args: rest.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** The current Node binary, or a copy of it in `dir` when the unprivileged user cannot reach it. */
async function nodeForNobody(dir: string): Promise<string> {
  try {
    await run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', '0']);
    return process.execPath;
  } catch {
    const copy = join(dir, 'node');
    await copyFile(process.execPath, copy);
    await chmod(copy, 0o755);
    return copy;
  }
}

function uidOf(status: string): number {
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? '0');
}


async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<true> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
