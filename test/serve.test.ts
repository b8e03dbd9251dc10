import { createServer, type Server } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startCli } from './support/cli.js';
import { startTcpPeer } from './support/tcp-peer.js';
import { waitFor } from './support/wait-for.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lines of pino JSON from the daemon's stderr. */
function logLines(stderr: string): { msg?: string; check?: string; error?: string }[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string });
}

describe('driftwatch serve as a process', { timeout: 90_000 }, () => {
  let dir: string;
  let slow: Server;
  let slowPort: number;
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  const slowMs = 1500;
  // Answers after 3 s and counts what it holds per path, for runs that span reloads.
  let slower: Server;
  let slowerUrl: string;
  const holding = new Map<string, number>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-serve-'));
    peer = await startTcpPeer();
    // Answers after slowMs, so a SIGTERM can arrive while a run is in flight.
    slow = createServer((_req, res) => {
      setTimeout(() => res.end('slow ok'), slowMs);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const address = slow.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    slowPort = address.port;
    slower = createServer((req, res) => {
      const path = req.url ?? '/';
      holding.set(path, (holding.get(path) ?? 0) + 1);
      setTimeout(() => {
        holding.set(path, (holding.get(path) ?? 1) - 1);
        res.end('slower ok');
      }, 3000);
    });
    await new Promise<void>((resolve) => slower.listen(0, '127.0.0.1', resolve));
    const slowerAddress = slower.address();
    if (slowerAddress === null || typeof slowerAddress === 'string') throw new Error('no port');
    slowerUrl = `http://127.0.0.1:${slowerAddress.port}`;
  });
  afterAll(async () => {
    for (const server of [slow, slower]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    }
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Serves a new checks file, or a folder holding it (`--checks folder`). */
  async function serve(checks: string, extra: string[] = [], folder?: string): Promise<{ child: ChildProcess; base: string; file: string; done: ReturnType<typeof collect> }> {
    const file = join(folder ?? dir, `checks-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, checks);
    const port = await waitFor(async () => {
      const probe = await startTcpPeer();
      await probe.close();
      return probe.closedPort;
    }, 'a free port');
    const child = startCli(['serve', '--checks', folder ?? file, '--listen', `127.0.0.1:${port}`, '--log-level', 'debug', ...extra]);
    const done = collect(child, 80_000);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 'readyz');
    return { child, base, file, done };
  }

  it('reloads on SIGHUP, keeping the old checks when the new file is invalid', async () => {
    const good = `checks:\n  - { name: port-a, type: tcp, host: 127.0.0.1, port: ${peer.port}, schedule: "0 0 1 1 *" }\n`;
    const { child, base, file, done } = await serve(good);
    await writeFile(file, `${good}  - { name: port-b, type: tcp, host: 127.0.0.1 }\n`);
    child.kill('SIGHUP');
    await waitFor(async () => ((await (await fetch(`${base}/metrics`)).text()).includes('driftwatch_config_last_reload_successful 0') ? true : undefined), 'failed reload');
    const names = async () => ((await (await fetch(`${base}/api/v1/checks`)).json()) as { checks: { name: string }[] }).checks.map((c) => c.name);
    expect(await names()).toEqual(['port-a']);

    await writeFile(file, `${good}  - { name: port-b, type: tcp, host: 127.0.0.1, port: ${peer.port}, schedule: "0 0 1 1 *" }\n`);
    child.kill('SIGHUP');
    await waitFor(async () => ((await names()).length === 2 ? true : undefined), 'good reload');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const messages = logLines(result.stderr).map((l) => l.msg);
    expect(messages).toContain('reload failed: invalid check files, keeping the previous checks');
    expect(messages).toContain('checks reloaded');
  });

  it('on SIGTERM lets a running check finish within the grace period, then exits 0', async () => {
    const checks = `checks:\n  - { name: slow-page, type: http, url: "http://127.0.0.1:${slowPort}/", schedule: "* * * * * *", timeout: 5s }\n`;
    const { child, base, done } = await serve(checks, ['--grace', '10s']);
    // Wait until a run is in flight (the slow server holds it for slowMs).
    await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return /driftwatch_check_runs_total\{check="slow-page",type="http",result="success"\} [1-9]/.test(text) ? true : undefined;
    }, 'a first finished run');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const lines = logLines(result.stderr);
    const shutdown = lines.findIndex((l) => l.msg === 'shutting down: draining running checks');
    const stopped = lines.findIndex((l) => l.msg === 'stopped');
    expect(shutdown).toBeGreaterThan(-1);
    expect(stopped).toBeGreaterThan(shutdown);
    const drained = lines.slice(shutdown, stopped).filter((l) => l.msg === 'check passed' && l.check === 'slow-page');
    expect(drained).toHaveLength(1);
    expect(lines.slice(shutdown).some((l) => l.msg === 'check failed')).toBe(false);
  });

  it('a second signal while draining (npm start forwards Ctrl-C to a daemon the terminal also sent it to) does not cut the drain short', async () => {
    const checks = `checks:\n  - { name: slow-page, type: http, url: "http://127.0.0.1:${slowPort}/", schedule: "* * * * * *", timeout: 5s }\n`;
    const { child, done } = await serve(checks, ['--grace', '10s']);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A run in flight, so the drain takes a while.
    await waitFor(async () => (stderr.includes('"msg":"check passed"') ? true : undefined), 'a first finished run');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    child.kill('SIGINT');
    await waitFor(async () => (stderr.includes('shutting down: draining running checks') ? true : undefined), 'the drain');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(logLines(result.stderr).map((l) => l.msg)).toContain('stopped');
  });

  it('cancels runs still going when the grace period ends', async () => {
    const checks = `checks:\n  - { name: slow-page, type: http, url: "${slowerUrl}/cancelled", schedule: "* * * * * *", timeout: 5s }\n`;
    const { child, done } = await serve(checks, ['--grace', '100ms']);
    // SIGTERM while a run is surely in flight: the 3 s target holds its request (a fixed sleep
    // could land between two runs on a loaded machine).
    await waitFor(async () => ((holding.get('/cancelled') ?? 0) > 0 ? true : undefined), 'a run in flight');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const lines = logLines(result.stderr);
    const shutdown = lines.findIndex((l) => l.msg === 'shutting down: draining running checks');
    const cancelled = lines.slice(shutdown).find((l) => l.msg === 'check failed' && l.check === 'slow-page');
    expect(cancelled?.error).toBe('cancelled: daemon shutting down');
  });

  it('keeps the runs in flight of unchanged checks across reloads, scheduled and on demand, and their new file:line', async () => {
    const slowPage = `  - { name: slow-page, type: http, url: "${slowerUrl}/page", schedule: "* * * * * *", timeout: 5s }\n`;
    const onDemand = `  - { name: slow-on-demand, type: http, url: "${slowerUrl}/on-demand", schedule: "0 0 1 1 *", timeout: 5s }\n`;
    const filler = `  - { name: filler, type: tcp, host: 127.0.0.1, port: ${peer.port}, schedule: "0 0 1 1 *" }\n`;
    // The same two checks, the second version with one more check before them (they move a line down).
    const versions = [`checks:\n${slowPage}${onDemand}`, `checks:\n${filler}${slowPage}${onDemand}`];
    const { child, base, file, done } = await serve(versions[0] ?? '');
    const reloadAt = async () => ((await (await fetch(`${base}/api/v1/checks`)).json()) as { reload?: { at: string } }).reload?.at;
    const onDemandRun = fetch(`${base}/api/v1/checks/slow-on-demand/run`, { method: 'POST' }).then(async (r) => (await r.json()) as { startedAt: string; ok: boolean });
    // A SIGHUP each second for 8 s: every 3 s run spans at least two reloads.
    for (let i = 1; i <= 8; i++) {
      const before = await reloadAt();
      await writeFile(file, versions[(i + 1) % 2] ?? '');
      child.kill('SIGHUP');
      await waitFor(async () => ((await reloadAt()) !== before ? true : undefined), `reload ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const entry = async (name: string) => (await (await fetch(`${base}/api/v1/checks/${name}`)).json()) as { source: string; recent: { startedAt: string }[]; last?: { startedAt: string } };
    const page = await entry('slow-page');
    expect(page.recent.length).toBeGreaterThanOrEqual(1);
    expect(page.source).toBe(`${relative(ROOT, file)}:3`);
    const ran = await onDemandRun;
    expect(ran.ok).toBe(true);
    expect((await entry('slow-on-demand')).last?.startedAt).toBe(ran.startedAt);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it('discards the run in flight of a check whose spec changed (it observed the old spec)', async () => {
    const check = (description: string) => `checks:\n  - { name: slow-changing, type: http, url: "${slowerUrl}/changing", description: ${description}, schedule: "* * * * * *", timeout: 5s }\n`;
    const { child, base, file, done } = await serve(check('v1'));
    await waitFor(async () => ((holding.get('/changing') ?? 0) > 0 ? true : undefined), 'a run of v1 in flight');
    await writeFile(file, check('v2'));
    child.kill('SIGHUP');
    const entry = async () => (await (await fetch(`${base}/api/v1/checks/slow-changing`)).json()) as { description: string; recent: { startedAt: string }[] };
    await waitFor(async () => ((await entry()).description === 'v2' ? true : undefined), 'the v2 reload');
    const reloaded = Date.now();
    // The v1 run ends within 3 s; v2's first run cannot start before it ends, and takes 3 s more.
    await waitFor(async () => ((holding.get('/changing') ?? 0) === 0 ? true : undefined), 'the v1 run to end');
    await waitFor(async () => ((await entry()).recent.length > 0 ? true : undefined), 'a run of v2');
    for (const run of (await entry()).recent) expect(Date.parse(run.startedAt)).toBeGreaterThan(reloaded);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it('a symbolic link loop in the checks folder fails the reload at once, and the next reload is not stuck behind it', async () => {
    const folder = join(dir, 'looped');
    await mkdir(join(folder, 'sub'), { recursive: true });
    const { child, base, done } = await serve(`checks:\n  - { name: port-a, type: tcp, host: 127.0.0.1, port: ${peer.port}, schedule: "0 0 1 1 *" }\n`, [], folder);
    const reload = async () => (await fetch(`${base}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(20_000) })).json() as Promise<{ ok: boolean; problems: string[] }>;
    // Two links to the parent: readdir({ recursive: true }) followed them without end.
    await symlink('..', join(folder, 'sub', 'up'));
    await symlink('..', join(folder, 'sub', 'up-too'));
    const failed = await reload();
    expect(failed).toMatchObject({ ok: false });
    expect(failed.problems).toEqual([
      `${relative(ROOT, join(folder, 'sub', 'up'))}:1:1: symbolic link loop: leads back to ${relative(ROOT, folder)}`,
      `${relative(ROOT, join(folder, 'sub', 'up-too'))}:1:1: symbolic link loop: leads back to ${relative(ROOT, folder)}`,
    ]);
    await rm(join(folder, 'sub'), { recursive: true });
    expect(await reload()).toMatchObject({ ok: true, checks: 1 });
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it('refuses to start on invalid check files, naming the problem (exit 2)', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'checks:\n  - { name: x, type: tcp, host: 127.0.0.1, port: 0 }\n');
    const result = await collect(startCli(['serve', '--checks', file, '--listen', '127.0.0.1:0']));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid.yaml:2:50: checks[0].port: must be at least 1 (got 0)');
  });
});
