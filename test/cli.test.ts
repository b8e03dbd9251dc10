import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
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
    expect(unknown.stderr).toContain('--only: no check named nope');
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
    const unknown = await runCli(['run', '--colour']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--colour'");
    expect(unknown.stderr).toContain('Usage: driftwatch run');
  });
});
