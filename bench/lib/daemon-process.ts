import { join } from 'node:path';
import type { Build } from './build.js';
import { startChild, type Child } from './child.js';
import type { HostCall, HostMessage, HostStats, RenderTiming } from './host-protocol.js';
import { freePort } from './ports.js';

/** The instrumented daemon (daemon-host.ts) in its own process, driven over IPC. */
export interface DaemonProcess {
  child: Child;
  port: number;
  checks: number;
  url(path: string): string;
  reset(): Promise<void>;
  stats(): Promise<HostStats>;
  /** Stats after a full GC (when started with nodeFlags ['--expose-gc']). */
  statsAfterGc(): Promise<HostStats>;
  render(rounds: number): Promise<RenderTiming>;
  /** Unhandled rejections the process reported so far. */
  unhandled: string[];
  stop(): Promise<void>;
}

export interface DaemonProcessOptions {
  checksFile: string;
  dir: string;
  name?: string;
  concurrency?: number;
  /** serve --run-threads (default 0: every run on the main thread; bench/run.ts passes serve's default). */
  runThreads?: number;
  logLevel?: string;
  /** Extra node flags, e.g. --max-old-space-size. */
  nodeFlags?: string[];
  /** The process's environment (default: this one's). */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export async function startDaemonProcess(build: Build, options: DaemonProcessOptions): Promise<DaemonProcess> {
  const port = await freePort();
  const name = options.name ?? 'driftwatch';
  const child = startChild({
    name,
    command: process.execPath,
    args: [
      ...(options.nodeFlags ?? []),
      build.entry('bench/lib/daemon-host.ts'),
      '--checks',
      options.checksFile,
      '--port',
      String(port),
      '--concurrency',
      String(options.concurrency ?? 64),
      '--run-threads',
      String(options.runThreads ?? 0),
      '--log-level',
      options.logLevel ?? 'info',
    ],
    logFile: join(options.dir, `${name}.log`),
    env: options.env,
    ipc: true,
  });
  const unhandled: string[] = [];
  const pending = new Map<number, (data: HostStats | RenderTiming | null) => void>();
  let nextId = 1;
  let ready: ((m: { port: number; checks: number }) => void) | undefined;
  const readyMessage = new Promise<{ port: number; checks: number }>((resolve) => (ready = resolve));
  child.process.on('message', (message: HostMessage) => {
    if (message.type === 'ready') ready?.(message);
    else if (message.type === 'unhandled') unhandled.push(message.message);
    else pending.get(message.id)?.(message.data);
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const died = new Promise<never>((_, reject) => {
    child.process.once('exit', (code, signal) => {
      reject(new Error(`${name} exited (${code ?? signal ?? '?'}):\n${child.logTail()}`));
    });
  });
  died.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${child.logTail()}`));
    }, timeoutMs);
  });
  let started: { port: number; checks: number };
  try {
    started = await Promise.race([readyMessage, died, timeout]);
  } catch (err) {
    await child.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const ask = (request: HostCall, ms = 60_000): Promise<HostStats | RenderTiming | null> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: no answer to ${request.op} within ${ms} ms`));
      }, ms);
      pending.set(id, (data) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(data);
      });
      child.process.send({ ...request, id });
    });
  };

  return {
    child,
    port: started.port,
    checks: started.checks,
    url: (path) => `http://127.0.0.1:${started.port}${path}`,
    reset: async () => {
      await ask({ op: 'reset' });
    },
    stats: async () => (await ask({ op: 'stats' })) as HostStats,
    statsAfterGc: async () => (await ask({ op: 'gc' })) as HostStats,
    render: async (rounds) => (await ask({ op: 'render', rounds })) as RenderTiming,
    unhandled,
    stop: () => child.stop(),
  };
}
