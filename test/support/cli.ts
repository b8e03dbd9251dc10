import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/driftwatch.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI as installed (bin/driftwatch.js on dist/, built by the global setup) in the repository root. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI to completion (bounded by timeoutMs) and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliResult> {
  const child = startCli(args, env);
  return collect(child, timeoutMs);
}

export function collect(child: ChildProcess, timeoutMs = 30_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One pino line of the daemon's stderr. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** The JSON log lines in a process's stderr text (other lines skipped). */
export function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/** Resolves with the first log line on the child's stderr with this msg; rejects when the child exits first or after timeoutMs. */
export function waitForLog(child: ChildProcess, msg: string, timeoutMs = 60_000): Promise<LogLine> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no "${msg}" log line within ${timeoutMs} ms; stderr so far:\n${seen}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const line = logLines(seen.slice(0, seen.lastIndexOf('\n') + 1)).find((l) => l.msg === msg);
      if (line === undefined) return;
      finish();
      resolve(line);
    };
    const onExit = () => {
      finish();
      reject(new Error(`exited before a "${msg}" log line; stderr:\n${seen}`));
    };
    const finish = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
