import { formatSeconds, type RoundProgress } from './wait.js';

/** Where progress goes: stderr, which is a terminal or not. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface Progress {
  round(progress: RoundProgress): void;
  /** Clears the terminal line (the table follows) and stops the countdown. */
  done(): void;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * The progress of `run --wait` on stderr. On a terminal one line, rewritten in place, with a
 * countdown to the next round; otherwise (CI logs) one plain line per round, nothing rewritten.
 */
export function createProgress(stream: ProgressStream): Progress {
  let ticker: NodeJS.Timeout | undefined;
  const stopTicker = () => {
    clearInterval(ticker);
    ticker = undefined;
  };
  if (stream.isTTY !== true) {
    return {
      round: (progress) => stream.write(`driftwatch run: ${describeRound(progress, progress.nextInMs)}\n`),
      done: stopTicker,
    };
  }
  const show = (text: string) => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    stream.write(`${CLEAR_LINE}${text.length > width ? `${text.slice(0, width - 3)}...` : text}`);
  };
  return {
    round(progress) {
      stopTicker();
      show(describeRound(progress, progress.nextInMs));
      if (progress.nextInMs === undefined) return;
      const nextAt = performance.now() + progress.nextInMs;
      ticker = setInterval(() => {
        show(describeRound(progress, Math.max(0, nextAt - performance.now())));
      }, 1000);
      ticker.unref();
    },
    done() {
      stopTicker();
      stream.write(CLEAR_LINE);
    },
  };
}

/** "round 2 at 3.1s of 20s: 1 failing (hub-dns: assertion), 3 blocked, 1 passed; next round in 2s". */
export function describeRound(progress: RoundProgress, nextInMs: number | undefined): string {
  const failing = progress.results.filter((r) => !r.ok && r.blocked === undefined);
  const blocked = progress.results.filter((r) => r.blocked !== undefined).length;
  const passed = progress.results.filter((r) => r.ok).length;
  const shown = failing.slice(0, 3).map((r) => `${r.name}: ${r.reason ?? 'error'}`);
  const parts = [
    ...(failing.length > 0 ? [`${failing.length} failing (${shown.join(', ')}${failing.length > shown.length ? ', ...' : ''})`] : []),
    ...(blocked > 0 ? [`${blocked} blocked`] : []),
    `${passed} passed`,
  ];
  const at = `round ${progress.round} at ${formatSeconds(progress.elapsedMs)} of ${formatSeconds(progress.waitMs)}`;
  const next = nextInMs === undefined ? (failing.length + blocked > 0 ? '; the wait is over' : '') : `; next round in ${formatSeconds(nextInMs)}`;
  return `${at}: ${parts.join(', ')}${describeConvergence(progress)}${next}`;
}

/** "; caches expire: hub-dns at 127.0.0.1:5353 by 6.2s": the expected convergence of each resolver still serving an old answer. */
function describeConvergence(progress: RoundProgress): string {
  const converging = progress.converging ?? [];
  if (converging.length === 0) return '';
  const shown = converging.slice(0, 3).map((e) => `${e.check} at ${e.resolver} by ${formatSeconds(Math.max(0, e.byMs))}`);
  return `; caches expire: ${shown.join(', ')}${converging.length > shown.length ? ', ...' : ''}`;
}
