import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNamespace, type Namespace } from './support/netns.js';
import { isShell, readBlocks, type Block } from './support/readme-blocks.js';

/**
 * The README as a newcomer runs it: a clean clone of the committed HEAD, every shell block marked
 * runnable run as written, in order, inside a network namespace with only loopback (nothing can
 * leave this machine), with npm offline from the local cache. The markers are HTML comments before
 * the blocks (docs/development.md, "The README test"). The test command at the top is marked skip:
 * it is this suite, which cannot run inside itself, and test:deps installs from the network.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MINUTE = 60_000;
/** npm ci and a first build on a loaded 2-core machine take minutes; every wait below is bounded. */
const READY_MS = 8 * MINUTE;
/** Once it serves, how long its checks may take to pass (they run every 15-30 s). */
const PASS_MS = 2 * MINUTE;
const BLOCK_MS = 5 * MINUTE;
const STOP_MS = 40_000;

describe('README.md: every shell block says whether the README test runs it', () => {
  it('has a valid marker on every shell block, and exactly the two newcomer commands first', async () => {
    const blocks = readBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'));
    const problems = blocks.flatMap((b) => {
      if (b.marker?.kind === 'invalid') return [`line ${b.line}: unknown marker "${b.marker.comment}"`];
      if (isShell(b) && (b.marker === undefined || b.marker.kind === 'file')) return [`line ${b.line}: a shell block without a run, start or skip marker`];
      if (!isShell(b) && b.marker !== undefined && b.marker.kind !== 'file') return [`line ${b.line}: only shell blocks run`];
      return [];
    });
    expect(problems).toEqual([]);
    const [install, tests] = blocks;
    expect([install?.text, install?.marker]).toEqual([expect.stringMatching(/^npm ci && npm start +#/), { kind: 'start', url: 'http://127.0.0.1:9147' }]);
    expect(tests?.text).toMatch(/^npm ci && npm run test:deps && npm test +#[^\n]*\n$/);
    expect(tests?.marker).toMatchObject({ kind: 'skip' });
    expect(blocks.filter((b) => b.marker?.kind === 'run').length).toBeGreaterThan(2);
  });
});

const checksAnswer = z.object({ checks: z.array(z.object({ name: z.string(), status: z.string(), last: z.object({ message: z.string() }).optional() })) });

interface Finished {
  code: number | null;
  output: string;
}

describe('README.md, run in a clean clone with only loopback', { timeout: 30 * MINUTE }, () => {
  let ns: Namespace;
  let clone: string;
  const started: { block: Block; child: ChildProcess; exited: Promise<Finished> }[] = [];

  beforeAll(async () => {
    ns = createNamespace('readme');
    clone = join(await mkdtemp(join(tmpdir(), 'driftwatch-readme-')), 'driftwatch');
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    execFileSync('git', ['-C', clone, 'checkout', '--quiet', '--detach', head]);
  });
  afterAll(async () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGKILL');
    await Promise.all(started.map((s) => s.exited));
    ns.delete();
    await rm(join(clone, '..'), { recursive: true, force: true });
  });

  it('runs every block marked runnable as written; npm start and the quick start serve passing checks; Ctrl-C stops them', async () => {
    const blocks = readBlocks(await readFile(join(clone, 'README.md'), 'utf8'));
    const outputs: string[] = [];
    for (const block of blocks) {
      const where = `README.md:${block.line}`;
      const marker = block.marker;
      if (marker === undefined || marker.kind === 'skip' || marker.kind === 'invalid') continue;
      if (marker.kind === 'file') {
        await writeFile(join(clone, marker.path), block.text);
      } else if (marker.kind === 'run') {
        const done = await finish(inClone(block.text), BLOCK_MS);
        outputs.push(done.output);
        expect(done.code, `${where} exited ${String(done.code)}:\n${block.text}\n${done.output}`).toBe(marker.exit);
      } else {
        const child = inClone(block.text);
        const exited = finish(child, 30 * MINUTE);
        started.push({ block, child, exited });
        await waitUntilServing(marker.url, child, exited, where);
      }
    }
    // Ctrl-C, as a terminal sends it: SIGINT to the whole process group (npm, sh, node).
    for (const { block, child, exited } of started.reverse()) {
      killGroup(child, 'SIGINT');
      const done = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => { resolve(undefined); }, STOP_MS))]);
      expect(done, `README.md:${block.line} still running ${STOP_MS} ms after Ctrl-C`).toBeDefined();
      outputs.push(done?.output ?? '');
      expect(done?.output, `README.md:${block.line}: the daemon did not say it stopped`).toContain('"msg":"stopped"');
    }
    // npm ci says nothing about install scripts (package.json allowScripts decides esbuild's).
    expect(outputs.join('\n')).not.toMatch(/install-scripts|allowScripts/);
  });

  /** `bash -e -o pipefail -c TEXT` in the clone, in the namespace, in its own process group, with npm offline. */
  function inClone(text: string): ChildProcess {
    return ns.spawn('bash', ['-e', '-o', 'pipefail', '-c', text], { cwd: clone, env: newcomerEnv(), detached: true });
  }

  /** Until URL/readyz answers (READY_MS) and then every check at URL/api/v1/checks passes (PASS_MS); fails when the command ends first. */
  async function waitUntilServing(url: string, child: ChildProcess, exited: Promise<Finished>, where: string): Promise<void> {
    let deadline = Date.now() + READY_MS;
    let ready = false;
    let seen = 'not serving yet';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const { code, output } = await exited;
        throw new Error(`${where} ended (${String(code)}) before serving:\n${output}`);
      }
      if (!ready && (await ns.fetchText(`${url}/readyz`))?.status === 200) {
        ready = true;
        deadline = Date.now() + PASS_MS;
      }
      if (ready) {
        const answer = await ns.fetchText(`${url}/api/v1/checks`);
        const { checks } = checksAnswer.parse(JSON.parse(answer?.body ?? '{"checks":[]}'));
        seen = checks.map((c) => `${c.name}: ${c.status}${c.last && c.status !== 'ok' ? ` (${c.last.message})` : ''}`).join(', ');
        if (checks.length > 0 && checks.every((c) => c.status === 'ok')) return;
      }
      if (Date.now() > deadline) throw new Error(`${where}: ${url} not serving passing checks in time; checks: ${seen}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
});

/** The environment of a shell a newcomer opens: no vitest or npm-run variables, npm offline (installs from ~/.npm). */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|VITEST|NODE_ENV$|NODE_OPTIONS$)/i.test(key)));
  return { ...env, npm_config_offline: 'true', npm_config_update_notifier: 'false', NO_COLOR: '1' };
}

/** Resolves when the process exits, with its exit code and output (stdout and stderr interleaved); kills its group after ms. */
function finish(child: ChildProcess, ms: number): Promise<Finished> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      output += `\n[readme test: killed after ${ms} ms]`;
      killGroup(child, 'SIGKILL');
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
