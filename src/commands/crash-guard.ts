import type { Logger } from 'pino';
import { errorCode } from '../results/classify.js';
import { containCrash } from '../runner/run-scope.js';

/**
 * Keeps a hostile peer from ending the process: an exception thrown from a check's connection
 * (see runner/run-scope.ts) fails that run and the rest go on. Anything else uncaught is a bug of ours:
 * logged, then the process exits 1 as Node would. The log line names the error's code only:
 * its message may quote the peer (the run's result carries it, scrubbed and bounded).
 */
export function guardPeerCrashes(log: Logger): () => void {
  const onException = (err: unknown) => {
    if (containCrash(err)) {
      log.warn({ code: errorCode(err) ?? (err instanceof Error ? err.name : typeof err) }, "a check's client library threw on its peer's answer: that run fails, the daemon goes on");
      return;
    }
    log.fatal({ err }, 'uncaught exception (a bug: please report it)');
    log.flush();
    process.exit(1);
  };
  process.on('uncaughtException', onException);
  return () => process.off('uncaughtException', onException);
}
