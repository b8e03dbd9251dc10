import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startHttpPeer } from './peers/https.js';
import { PeerSet } from './support/peers.js';

/**
 * action.yml run as a runner runs a composite action: each step's env with ${{ inputs.NAME }}
 * expanded (the input or its default), its `run:` written to a file and executed with
 * `bash --noprofile --norc -eo pipefail FILE` (GitHub's `shell: bash`), GITHUB_STEP_SUMMARY
 * pointing at a file. `using: node` runs the CLI built in dist/ (bin/driftwatch.js); the checks
 * ask a loopback HTTP peer whose answer the test sets.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/driftwatch.js');

interface Action {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: { shell: string; env?: Record<string, string>; run: string }[] };
}

/** Expands ${{ inputs.NAME }}; any other expression is refused (this runner knows no other context). */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => {
    const match = /^inputs\.([a-z-]+)$/.exec(expression);
    const value = match?.[1] === undefined ? undefined : inputs[match[1]];
    if (value === undefined) throw new Error(`unsupported expression \${{ ${expression} }}`);
    return value;
  });
}

async function runAction(given: Record<string, string>, cwd: string, summary: string): Promise<{ code: number | null; stderr: string }> {
  const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as Action;
  expect(action.runs.using).toBe('composite');
  const unknown = Object.keys(given).filter((name) => !(name in action.inputs));
  if (unknown.length > 0) throw new Error(`no input ${unknown.join(', ')}`);
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, given[name] ?? input.default ?? '']));
  let last = { code: 0 as number | null, stderr: '' };
  for (const [index, step] of action.runs.steps.entries()) {
    expect(step.shell).toBe('bash');
    // Inputs come in through env only: an expression inside the script would paste text into shell.
    expect(step.run).not.toContain('${{');
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, expand(value, inputs)]));
    const script = join(cwd, `step-${index}.sh`);
    await writeFile(script, step.run);
    last = await new Promise((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, GITHUB_STEP_SUMMARY: summary }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`step ${index} did not end within 30 s: ${stderr}`));
      }, 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
    if (last.code !== 0) break;
  }
  return last;
}

describe('action.yml: the gate as a composite action', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let live = 'v1';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-action-'));
    const service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/version': () => ({ body: `release ${live}` }) } }));
    const checks = [{ name: 'hub-version', type: 'http', url: service.url('/version'), expect: { bodyContains: 'release {release}' } }];
    await writeFile(join(dir, 'gate.yaml'), stringify({ defaults: { interval: '30s', timeout: '2s' }, checks }));
  });

  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  const summaryFile = async (name: string) => {
    const file = join(dir, name);
    await writeFile(file, '');
    return file;
  };

  it('passes the step on a green gate and writes the report to the job summary', async () => {
    live = 'v2';
    const summary = await summaryFile('green.md');
    const result = await runAction({ checks: 'gate.yaml', release: 'v2', using: 'node', cli: BIN }, dir, summary);
    expect(result.code).toBe(0);
    const text = await readFile(summary, 'utf8');
    expect(text).toMatch(/^### ✅ driftwatch: all 1 checks pass\n\nrelease `v2`\n\nThe check passes\./);
    expect(text).toContain('| ✅ pass | `hub-version` | http |');
  });

  it('fails the step on a red gate, with the first broken link in the summary', async () => {
    live = 'v1';
    const summary = await summaryFile('red.md');
    const result = await runAction({ checks: 'gate.yaml', release: 'v2', using: 'node', cli: BIN }, dir, summary);
    expect(result.code).toBe(1);
    const text = await readFile(summary, 'utf8');
    expect(text).toMatch(/^### ❌ driftwatch: 1 of 1 checks failing\n\nrelease `v2`\n\nFirst broken link: hub-version \(assertion\)/);
    expect(text).toContain('| ❌ fail | `hub-version` | http |');
  });

  it('waits for a deploy that settles, and writes nothing with summary: false', async () => {
    live = 'v1';
    const flip = setTimeout(() => {
      live = 'v3';
    }, 1500);
    const summary = await summaryFile('waited.md');
    try {
      const waited = await runAction({ checks: 'gate.yaml', release: 'v3', wait: '20s', using: 'node', cli: BIN }, dir, summary);
      expect(waited.code).toBe(0);
    } finally {
      clearTimeout(flip);
    }
    const text = await readFile(summary, 'utf8');
    expect(text).toContain('### ✅ driftwatch: all 1 checks pass');
    expect(text).toMatch(/\| Attempts \| Passed after \|/);
    const quiet = await summaryFile('quiet.md');
    expect((await runAction({ checks: 'gate.yaml', release: 'v3', summary: 'false', using: 'node', cli: BIN }, dir, quiet)).code).toBe(0);
    expect(await readFile(quiet, 'utf8')).toBe('');
  });

  it('stops with 2 on an unknown way to run, and a release with shell in it stays text', async () => {
    const summary = await summaryFile('bad.md');
    expect(await runAction({ checks: 'gate.yaml', using: 'bogus' }, dir, summary)).toMatchObject({ code: 2 });
    const hostile = await runAction({ checks: 'gate.yaml', release: '$(touch pwned)"; touch pwned; "', using: 'node', cli: BIN }, dir, summary);
    expect(hostile.code).toBe(1);
    await expect(readFile(join(dir, 'pwned'))).rejects.toThrow();
  });
});
