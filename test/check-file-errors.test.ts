import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, type CliResult } from './support/cli.js';
import { EVERY_PROBLEM, everyProblem } from './support/config-cases.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'driftwatch.js');

/** Paths as the CLI (started in the repository root) shows them. */
const shown = (path: string) => relative(ROOT, path);

/** serve would listen on a free port if it started; it must not get that far. */
const COMMANDS = [
  ['validate'],
  ['run'],
  ['serve', '--listen', '127.0.0.1:0'],
] as const;

/** Exit 2 with exactly the located problems on stderr, and no stack trace. */
function expectProblems(result: CliResult, problems: string[]): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
  expect(lines.filter((line) => !/^\d+ problems?$/.test(line))).toEqual(problems);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('check files that cannot be read are located problems at start-up (exit 2)', { timeout: 90_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-file-errors-'));
    // The unprivileged user must reach the files to be refused by their own mode, not the folder's.
    await chmod(dir, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an alias bomb (billion laughs) is refused at its first alias', async () => {
    const bomb = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
      const previous = String.fromCharCode('a'.charCodeAt(0) + i);
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
    }
    await writeFile(bomb, `${levels.join('\n')}\nchecks: []\n`);
    for (const command of COMMANDS) {
      const [verb, ...rest] = command;
      expectProblems(await runCli([verb, '--checks', bomb, ...rest]), [
        `${shown(bomb)}:2:8: YAML: aliases expand too far (more than 100 alias expansions; the limit guards against "billion laughs" documents)`,
      ]);
    }
  });

  it('text nested deeper than a check file needs is refused before the parser recurses into it', async () => {
    // 10,000 unclosed, then balanced, brackets: yaml's parser recursed into a stack overflow (one
    // problem per level), and in some orders V8 aborted the process outright.
    const open = join(dir, 'deep-open.yaml');
    const balanced = join(dir, 'deep-balanced.yaml');
    await writeFile(open, `checks: ${'['.repeat(10_000)}\n`);
    await writeFile(balanced, `checks: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`);
    for (const command of COMMANDS) {
      const [verb, ...rest] = command;
      expectProblems(await runCli([verb, '--checks', open, balanced, ...rest]), [
        `${shown(open)}:1:38: YAML: nested deeper than a check file needs (more than 32 levels)`,
        `${shown(balanced)}:1:38: YAML: nested deeper than a check file needs (more than 32 levels)`,
      ]);
    }
  });

  it('a dangling *.yaml symlink and a folder named x.yaml in a checks folder', async () => {
    const folder = join(dir, 'checks');
    await mkdir(join(folder, 'x.yaml'), { recursive: true });
    await symlink('gone.yaml', join(folder, 'dangling.yaml'));
    await writeFile(join(folder, 'good.yaml'), 'checks:\n  - { name: fine, type: tcp, host: 127.0.0.1, port: 1, schedule: "0 0 1 1 *" }\n');
    for (const command of COMMANDS) {
      const [verb, ...rest] = command;
      expectProblems(await runCli([verb, '--checks', folder, ...rest]), [
        `${shown(join(folder, 'dangling.yaml'))}:1:1: broken symbolic link: its target does not exist`,
        `${shown(join(folder, 'x.yaml'))}:1:1: is a folder, not a check file (a folder name must not end in .yaml or .yml)`,
      ]);
    }
  });

  it('a file the daemon user may not read (run unprivileged: root reads everything)', async () => {
    const locked = join(dir, 'locked.yaml');
    await writeFile(locked, 'checks: []\n');
    await chmod(locked, 0o000);
    const asRoot = process.getuid?.() === 0;
    for (const command of COMMANDS) {
      const [verb, ...rest] = command;
      const args = [BIN, verb, '--checks', locked, ...rest];
      const child = asRoot
        ? spawn('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      expectProblems(await collect(child), [`${shown(locked)}:1:1: cannot be read: permission denied`]);
    }
  });

  it('validate reports every problem of a file at once (16.4)', async () => {
    const file = join(dir, 'every.yaml');
    await writeFile(file, EVERY_PROBLEM);
    expectProblems(await runCli(['validate', '--checks', file]), everyProblem(shown(file)));
  });
});
