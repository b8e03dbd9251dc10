import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli, waitForLog } from './support/cli.js';
import { startTcpPeer } from './support/tcp-peer.js';

describe('driftwatch CLI', { timeout: 90_000 }, () => {
  let dir: string;
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let good: string;
  let mixed: string;
  let bad: string;

  beforeAll(async () => {
    peer = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-cli-'));
    good = join(dir, 'good.yaml');
    mixed = join(dir, 'mixed.yaml');
    bad = join(dir, 'bad.yaml');
    await writeFile(good, `checks:\n  - { name: up, type: tcp, host: 127.0.0.1, port: ${peer.port}, timeout: 2s }\n  - { name: up-too, type: tcp, host: 127.0.0.1, port: ${peer.port}, timeout: 2s }\n`);
    await writeFile(mixed, `checks:\n  - { name: up, type: tcp, host: 127.0.0.1, port: ${peer.port}, timeout: 2s }\n  - { name: down, type: tcp, host: 127.0.0.1, port: ${peer.closedPort}, timeout: 2s }\n`);
    await writeFile(bad, 'checks:\n  - name: x\n    type: tcp\n    host: 127.0.0.1\n    port: 99999\n    colour: red\n');
  });
  afterAll(async () => {
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate: exit 0 and a count when valid, exit 2 with every problem when not', async () => {
    const ok = await runCli(['validate', '--checks', good]);
    expect(ok).toMatchObject({ code: 0, stdout: 'ok: 2 checks in 1 file\n' });
    const invalid = await runCli(['validate', '--checks', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('bad.yaml:5:11: checks[0].port: must be at most 65535 (got 99999)');
    expect(invalid.stderr).toContain('bad.yaml:6:5: checks[0].colour: unknown key "colour"');
    expect(invalid.stderr).toContain('2 problems');
  });

  it('run: exit 0 when all pass, with a table and a summary line', async () => {
    const res = await runCli(['run', '--checks', good]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^RESULT\s+CHECK\s+TYPE\s+TIME\s+DETAIL$/m);
    expect(res.stdout).toMatch(/^PASS\s+up\s+tcp\s+\d+ms\s+ok$/m);
    expect(res.stdout).toMatch(/^2 passed, 0 failed$/m);
  });

  it('run: exit 1 when any fails, failing checks first; --json and --junit', async () => {
    const junit = join(dir, 'report.xml');
    const table = await runCli(['run', '--checks', mixed]);
    expect(table.code).toBe(1);
    const rows = table.stdout.split('\n').filter((l) => /^(PASS|FAIL)/.test(l));
    expect(rows[0]).toMatch(/^FAIL\s+down\s+tcp\s+\d+ms\s+connect: .*ECONNREFUSED/);

    const json = await runCli(['run', '--checks', mixed, '--json', '--junit', junit]);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; results: { name: string; ok: boolean; reason?: string }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.results.map((r) => [r.name, r.ok, r.reason])).toEqual([
      ['up', true, undefined],
      ['down', false, 'connect'],
    ]);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain('<testsuite name="driftwatch" tests="2" failures="1"');
    expect(xml).toMatch(/<testcase classname="driftwatch.tcp" name="down" time="[\d.]+">\s*<failure type="connect" message="[^"]*ECONNREFUSED/);
  });

  it('run: --only picks checks, an unknown name is a usage error (exit 2)', async () => {
    const only = await runCli(['run', '--checks', mixed, '--only', 'up']);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/^1 passed, 0 failed$/m);
    const unknown = await runCli(['run', '--checks', mixed, '--only', 'nope']);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toBe('driftwatch run: --only: no check named nope (see driftwatch run --help)');
  });

  it('--checks takes several paths after one flag and the flag repeated (run, validate, serve)', async () => {
    const third = join(dir, 'third.yaml');
    await writeFile(third, `checks:\n  - { name: third, type: tcp, host: 127.0.0.1, port: ${peer.port}, timeout: 2s }\n`);
    const folder = join(dir, 'folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'fourth.yaml'), `checks:\n  - { name: fourth, type: tcp, host: 127.0.0.1, port: ${peer.port}, timeout: 2s }\n`);
    // One --checks with two files and a folder, then the flag again; an = form too.
    const validated = await runCli(['validate', '--checks', good, third, folder]);
    expect(validated).toMatchObject({ code: 0, stdout: 'ok: 4 checks in 3 files\n' });
    const ran = await runCli(['run', `--checks=${good}`, third, '--only', 'up,third,fourth', '--checks', folder, '--json']);
    expect(ran.code, ran.stderr).toBe(0);
    expect((JSON.parse(ran.stdout) as { results: { name: string }[] }).results.map((r) => r.name).sort()).toEqual(['fourth', 'third', 'up']);

    const child = startCli(['serve', '--checks', third, folder, '--checks', good, '--listen', '127.0.0.1:0', '--log-level', 'info']);
    const done = collect(child, 60_000);
    const { address } = await waitForLog(child, 'driftwatch serving');
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const listed = (await (await fetch(`http://${String(address)}/api/v1/checks`)).json()) as { checks: { name: string }[] };
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
    expect(listed.checks.map((c) => c.name).sort()).toEqual(['fourth', 'third', 'up', 'up-too']);
    // A path anywhere else is still a usage error, in one line.
    const stray = await runCli(['run', '--json', good]);
    expect(stray.code).toBe(2);
    expect(oneLine(stray.stderr)).toBe(`driftwatch run: unexpected argument "${good}": check paths go after --checks (see driftwatch run --help)`);
  });

  it('run: a --junit path it cannot write is exit 2 and one line, found before any check runs', async () => {
    const missing = await runCli(['run', '--checks', mixed, '--junit', '/nonexistent/x.xml']);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(oneLine(missing.stderr)).toBe('driftwatch run: cannot write --junit /nonexistent/x.xml: no such file or folder (ENOENT)');
    const folder = await runCli(['run', '--checks', mixed, '--junit', dir]);
    expect(folder.code).toBe(2);
    expect(oneLine(folder.stderr)).toBe(`driftwatch run: cannot write --junit ${dir}: is a folder (EISDIR)`);
    // Opens fine, but the write at the end fails: still 2 and one line, after the table.
    const full = await runCli(['run', '--checks', mixed, '--junit', '/dev/full']);
    expect(full.code).toBe(2);
    expect(full.stdout).toMatch(/^1 passed, 1 failed$/m);
    expect(oneLine(full.stderr)).toBe('driftwatch run: cannot write --junit /dev/full: no space left on the device (ENOSPC)');
  });

  it('serve: an address it cannot listen on is exit 2 and one line', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const taken = await runCli(['serve', '--checks', good, '--listen', `127.0.0.1:${port}`]);
      expect(taken.code).toBe(2);
      expect(oneLine(taken.stderr)).toBe(`driftwatch serve: cannot listen on 127.0.0.1:${port}: address already in use: another process listens there (EADDRINUSE)`);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
    // 198.18.0.0/15 is on no interface here: binding it is refused (no packet is sent).
    const foreign = await runCli(['serve', '--checks', good, '--listen', '198.18.0.1:9147']);
    expect(foreign.code).toBe(2);
    expect(oneLine(foreign.stderr)).toBe('driftwatch serve: cannot listen on 198.18.0.1:9147: address not available: no interface of this machine has it (EADDRNOTAVAIL)');
  });

  it('run: a check failing with reason config (an unset env secret) is exit 1, like any failed check, not 2', async () => {
    const file = join(dir, 'secret.yaml');
    await writeFile(file, `checks:\n  - { name: needs-token, type: http, url: "http://127.0.0.1:${peer.closedPort}/", headers: { Authorization: { env: DRIFTWATCH_TEST_UNSET_TOKEN } } }\n`);
    const res = await runCli(['run', '--checks', file, '--json'], { DRIFTWATCH_TEST_UNSET_TOKEN: undefined });
    expect(res.code).toBe(1);
    expect((JSON.parse(res.stdout) as { results: { reason?: string }[] }).results.map((r) => r.reason)).toEqual(['config']);
  });

  it('run: exit 2 on invalid configuration', async () => {
    const res = await runCli(['run', '--checks', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('checks[0].colour: unknown key');
  });

  it('schema: prints a JSON Schema that covers every check type', async () => {
    const res = await runCli(['schema']);
    expect(res.code).toBe(0);
    const schema = JSON.parse(res.stdout) as { $schema: string; properties: { checks: { items: { oneOf: { properties: { type: { const: string } } }[] } } } };
    expect(schema.$schema).toContain('json-schema.org');
    const types = schema.properties.checks.items.oneOf.map((o) => o.properties.type.const);
    expect(types).toContain('tcp');
  });

  it('--help for every command, and a usage error for an unknown flag', async () => {
    for (const command of ['serve', 'run', 'validate', 'schema']) {
      const res = await runCli([command, '--help']);
      expect(res.code, command).toBe(0);
      expect(res.stdout, command).toContain(`Usage: driftwatch ${command}`);
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toContain('Commands:');
    // Bad usage is one line naming the problem, never the whole help or a stack trace.
    const unknown = await runCli(['run', '--colour']);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toBe('driftwatch run: unknown option --colour (see driftwatch run --help)');
    const command = await runCli(['frob']);
    expect(command.code).toBe(2);
    expect(oneLine(command.stderr)).toBe('driftwatch: unknown command "frob" (commands: serve, run, validate, schema, import; see driftwatch --help)');
    const missing = await runCli(['serve', '--checks']);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/^driftwatch serve: Option '--checks <value>' argument missing/);
  });
});

/** stderr that must be exactly one line: that line (the assertion fails on more). */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0] ?? '';
}
