import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { collect } from './cli.js';

// Prints the status, a newline, and the body; exit 1 when nothing answers (bounded by a 5 s abort).
const FETCH = `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
  .then(async (r) => process.stdout.write(r.status + '\\n' + (await r.text())))
  .catch(() => { process.exitCode = 1; });`;

/**
 * A network namespace of the test's own with only loopback up: every address outside 127/8 and
 * ::1 has no route there, so nothing a process inside does can leave this machine, and its
 * ports are its own (127.0.0.1:9147 is free there whatever runs beside the test). Needs root.
 */
export interface Namespace {
  readonly name: string;
  /** Starts `command args` inside the namespace. */
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** GET `url` from inside the namespace (a short-lived node process): the status and body, or undefined when unreachable. */
  fetchText(url: string): Promise<{ status: number; body: string } | undefined>;
  /** Deletes the namespace (processes still inside lose nothing but it). */
  delete(): void;
}

export function createNamespace(label: string): Namespace {
  const name = `dw-${label}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  const inside = (command: string, args: readonly string[], options: SpawnOptions = {}) =>
    spawn('ip', ['netns', 'exec', name, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  return {
    name,
    spawn: inside,
    fetchText: async (url) => {
      const { code, stdout } = await collect(inside(process.execPath, ['-e', FETCH, url]), 20_000);
      const at = stdout.indexOf('\n');
      return code === 0 && at > 0 ? { status: Number(stdout.slice(0, at)), body: stdout.slice(at + 1) } : undefined;
    },
    delete: () => {
      execFileSync('ip', ['netns', 'delete', name]);
    },
  };
}
