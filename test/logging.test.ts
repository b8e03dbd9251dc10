import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaemon } from '../src/daemon/daemon.js';
import { FAILURE_REPEAT_MS } from '../src/daemon/outcome-log.js';
import { collect, logLines, runCli, waitForLog } from './support/cli.js';
import { memoryLogger } from './support/checks.js';
import { createNamespace, type Namespace } from './support/netns.js';

/**
 * What the daemon writes to its log: levels by name, the address it really bound, and a failing
 * check on state changes and at most once per FAILURE_REPEAT_MS while it stays failing (every
 * run was 487 lines in 35 minutes for 14 checks). `driftwatch run` still logs each failure once.
 */
const BIN = fileURLToPath(new URL('../bin/driftwatch.js', import.meta.url));
const MINUTE = 60_000;

describe('logs', { timeout: 90_000 }, () => {
  let dir: string;
  let server: Server;
  let port: number;
  /** How the target answers: 200, 500, or never (the check's timeout). */
  let mode: 'ok' | 'fail' | 'hang' = 'fail';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-logging-'));
    server = createServer((_req, res) => {
      if (mode === 'hang') return;
      res.statusCode = mode === 'ok' ? 200 : 500;
      res.end(mode);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it(`a failing check is logged at info on state changes and once per ${FAILURE_REPEAT_MS / MINUTE} minutes while it stays failing`, async () => {
    expect(FAILURE_REPEAT_MS).toBe(10 * MINUTE);
    const file = join(dir, 'flaky.yaml');
    await writeFile(file, `checks:\n  - { name: flaky, type: http, url: "http://127.0.0.1:${port}/", interval: 1h, timeout: 500ms }\n`);
    const { log, lines } = memoryLogger();
    let now = Date.parse('2026-06-14T10:00:00Z');
    const daemon = createDaemon({ checkPaths: [file], log, failureLog: { now: () => now } });
    await daemon.load();
    const info = () => logLines(lines()).filter((l) => l.check === 'flaky' && l.level === 'info').map((l) => [l.msg, l.ok ?? l.runs, l.reason]);
    const run = async (times = 1) => {
      for (let i = 0; i < times; i++) await daemon.runNow('flaky');
    };

    mode = 'fail';
    await run(5);
    expect(info()).toEqual([['check state changed', false, 'status']]);
    // Every run is still there at debug, from the runner.
    expect(logLines(lines()).filter((l) => l.msg === 'check failed' && l.level === 'debug')).toHaveLength(5);
    now += 9 * MINUTE;
    await run();
    expect(info()).toHaveLength(1);
    now += 1 * MINUTE;
    await run(3);
    expect(info()).toEqual([['check state changed', false, 'status'], ['check still failing', 7, 'status']]);

    // Failing for another reason is a change of its own, at once.
    mode = 'hang';
    await run(2);
    mode = 'ok';
    await run(3);
    expect(info().slice(2)).toEqual([['check state changed', false, 'timeout'], ['check state changed', true, undefined]]);
    // Failing again right away is a change, not held back by the earlier reminder's clock.
    mode = 'fail';
    await run(2);
    expect(info().slice(4)).toEqual([['check state changed', false, 'status']]);
    server.closeAllConnections();
  });

  it('driftwatch run logs each failure once, at level "info"', async () => {
    mode = 'fail';
    const file = join(dir, 'gate.yaml');
    await writeFile(file, `checks:\n  - { name: gate-a, type: http, url: "http://127.0.0.1:${port}/a" }\n  - { name: gate-b, type: http, url: "http://127.0.0.1:${port}/b" }\n`);
    const result = await runCli(['run', '--checks', file, '--log-level', 'info']);
    expect(result.code).toBe(1);
    const failed = logLines(result.stderr).filter((l) => l.msg === 'check failed');
    expect(failed.map((l) => [l.check, l.level, l.reason]).sort()).toEqual([['gate-a', 'info', 'status'], ['gate-b', 'info', 'status']]);
  });
});

describe('the daemon process log, in a namespace with only loopback', { timeout: 90_000 }, () => {
  let ns: Namespace;
  let dir: string;

  beforeAll(async () => {
    ns = createNamespace('logs');
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-logging-'));
  });
  afterAll(async () => {
    ns.delete();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the address it bound (0.0.0.0), levels by name, and one line for a check failing every second', async () => {
    const file = join(dir, 'down.yaml');
    await writeFile(file, 'checks:\n  - { name: down, type: tcp, host: 127.0.0.1, port: 1, interval: 1s, timeout: 500ms }\n');
    const daemon = ns.spawn(process.execPath, [BIN, 'serve', '--checks', file, '--listen', '0.0.0.0:9147']);
    const exited = collect(daemon, 80_000);
    try {
      expect(await waitForLog(daemon, 'driftwatch serving')).toMatchObject({ level: 'info', address: '0.0.0.0:9147' });
      // Until it has failed at least five times (one line per run before).
      const deadline = Date.now() + 45_000;
      for (;;) {
        const metrics = (await ns.fetchText('http://127.0.0.1:9147/metrics'))?.body ?? '';
        const runs = Number(/driftwatch_check_runs_total\{check="down",type="tcp",result="failure"\} (\d+)/.exec(metrics)?.[1] ?? 0);
        if (runs >= 5) break;
        if (Date.now() > deadline) throw new Error(`only ${runs} runs of "down" within 45 s`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      daemon.kill('SIGTERM');
    }
    const { code, stderr } = await exited;
    expect(code).toBe(0);
    const lines = logLines(stderr);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(['info', 'warn', 'error', 'fatal'], JSON.stringify(line)).toContain(line.level);
    // fastify's own lines named 127.0.0.1 (and every interface) whatever was bound: gone.
    expect(lines.filter((l) => String(l.msg).startsWith('Server listening'))).toEqual([]);
    expect(lines.filter((l) => l.check === 'down').map((l) => [l.msg, l.reason])).toEqual([['check state changed', 'connect']]);
  });
});
