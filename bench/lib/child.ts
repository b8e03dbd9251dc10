import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { onCleanup } from './cleanup.js';

/** A process this benchmark started: its pid, its log, and how to stop it. */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Whether it is still running. */
  alive(): boolean;
  /** The tail of its stdout+stderr log file. */
  logTail(chars?: number): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr go here (so a chatty child never blocks on a full pipe). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Adds an IPC channel (node children only). */
  ipc?: boolean;
  /** SIGTERM first, SIGKILL after this long. */
  killAfterMs?: number;
}

export function startChild(options: StartOptions): Child {
  const fd = openSync(options.logFile, 'a');
  const stdio: StdioOptions = options.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd];
  const child = spawn(options.command, options.args, { stdio, env: options.env ?? process.env });
  closeSync(fd);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      process.stderr.write(`${options.name}: ${err.message}\n`);
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const pid = child.pid;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 5000);
        await exit;
        clearTimeout(killer);
      }
    })();
    return stopping;
  };
  const forget = onCleanup(options.name, stop);
  void exit.then(forget);
  return {
    name: options.name,
    pid,
    process: child,
    alive: () => !exited,
    logTail: (chars = 2000) => {
      try {
        return readFileSync(options.logFile, 'utf8').slice(-chars);
      } catch {
        return '';
      }
    },
    stop,
  };
}

/** Resolves once GET url answers with any status; throws with the child's log when it dies or time runs out. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!child.alive()) throw new Error(`${child.name} exited during start-up:\n${child.logTail()}`);
    if (await answers(url)) return;
    await sleep(50);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.logTail()}`);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve(true);
      });
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => {
      resolve(false);
    });
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
