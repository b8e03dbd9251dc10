import { createServer, type Server } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startCli } from './support/cli.js';
import { startTcpPeer } from './support/tcp-peer.js';

/** Lines of pino JSON from the daemon's stderr. */
function logLines(stderr: string): { msg?: string; check?: string; error?: string }[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('driftwatch serve as a process', { timeout: 90_000 }, () => {
  let dir: string;
  let slow: Server;
  let slowPort: number;
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  const slowMs = 1500;

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
  });
  afterAll(async () => {
    slow.closeAllConnections();
    await new Promise<void>((resolve) => slow.close(() => { resolve(); }));
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(checks: string, extra: string[] = []): Promise<{ child: ChildProcess; base: string; file: string; done: ReturnType<typeof collect> }> {
    const file = join(dir, `checks-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, checks);
    const port = await waitFor(async () => {
      const probe = await startTcpPeer();
      await probe.close();
      return probe.closedPort;
    }, 'a free port');
    const child = startCli(['serve', '--checks', file, '--listen', `127.0.0.1:${port}`, '--log-level', 'debug', ...extra]);
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
    const checks = `checks:\n  - { name: slow-page, type: http, url: "http://127.0.0.1:${slowPort}/", schedule: "* * * * * *", timeout: 5s }\n`;
    const { child, done } = await serve(checks, ['--grace', '100ms']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const lines = logLines(result.stderr);
    const shutdown = lines.findIndex((l) => l.msg === 'shutting down: draining running checks');
    const cancelled = lines.slice(shutdown).find((l) => l.msg === 'check failed' && l.check === 'slow-page');
    expect(cancelled?.error).toBe('cancelled: daemon shutting down');
  });

  it('refuses to start on invalid check files, naming the problem (exit 2)', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'checks:\n  - { name: x, type: tcp, host: 127.0.0.1, port: 0 }\n');
    const result = await collect(startCli(['serve', '--checks', file, '--listen', '127.0.0.1:0']));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid.yaml:2:50: checks[0].port: Too small');
  });
});
