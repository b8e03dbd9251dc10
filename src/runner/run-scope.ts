import { AsyncLocalStorage } from 'node:async_hooks';
import { classifyError } from '../results/classify.js';
import type { Failure } from '../results/result.js';

/**
 * The run an exception belongs to. A client library that parses a peer's bytes inside its own
 * socket listener (pg's protocol parser on an unknown authentication type, for one) throws where
 * no promise of the check can catch it: Node reports it as an uncaught exception and, by
 * default, ends the process and every check with it. Each run executes inside this scope, and
 * the async work it starts (sockets, timers, their listeners) inherits it, so the process-wide
 * handler (containCrash) can hand the exception to the run whose connection threw and fail that
 * run alone. Verified on Node 20 and 24: the store is still set while 'uncaughtException' runs.
 */
export const runScope = new AsyncLocalStorage<(err: unknown) => void>();

/** The abort reason of a run whose client library threw from a listener. */
export class PeerCrash extends Error {
  override name = 'PeerCrash';
  constructor(readonly error: unknown) {
    super('a client library failed on the peer');
  }

  failure(): Failure {
    const { reason, message } = classifyError(this.error);
    return { reason, message: `the peer's answer made the client library fail: ${message}` };
  }
}

/**
 * For process.on('uncaughtException'): fails the run the exception came from and says true, or
 * says false for an exception outside any run (a bug, which the caller reports and exits on).
 */
export function containCrash(err: unknown): boolean {
  const fail = runScope.getStore();
  if (fail === undefined) return false;
  fail(err);
  return true;
}
