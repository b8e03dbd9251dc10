/**
 * How the demo is controlled from outside: Ctrl-C and SIGTERM, the Enter key, and which port
 * its API takes.
 */
import { createServer } from 'node:net';

/** SIGINT and SIGTERM end the demo cleanly; a second one gives up on a clean stop. */
export function watchSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      controller.abort();
      return;
    }
    process.stderr.write(`incident-demo: ${name} again: exiting without a clean stop\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Resolves after `ms`, on Enter (on a terminal), or when the demo is stopped. */
export function waitForEnter(ms: number, stop: AbortSignal): Promise<void> {
  const stdin = process.stdin;
  const interactive = stdin.isTTY;
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      if (interactive) {
        stdin.off('data', done);
        // A paused stdin no longer holds the event loop open.
        stdin.pause();
      }
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
    if (interactive) {
      stdin.once('data', done);
      stdin.resume();
    }
  });
}

/** Whether `port` can be listened on now (the daemon prefers its usual 9147). */
export function isFree(host: string, port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => {
      resolve(false);
    });
    probe.listen(port, host, () => {
      probe.close(() => {
        resolve(true);
      });
    });
  });
}
