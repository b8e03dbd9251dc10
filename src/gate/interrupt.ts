/** The signals that interrupt `driftwatch run`: Ctrl-C, and a CI runner cancelling the job or a step timing out. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const SIGNAL_NUMBERS: Record<InterruptSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** The shell's exit code for a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export function interruptExitCode(signal: InterruptSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

export interface Interruption {
  /** Aborts at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal that interrupted the gate, if one did. */
  readonly by: InterruptSignal | undefined;
  /** Gives the signals back to Node's defaults. */
  dispose(): void;
}

/**
 * Watches for SIGINT and SIGTERM while the gate runs. The first one aborts `signal`: the runs in
 * flight are cancelled and the gate writes its report of what it knows; a second one exits at
 * once, for a caller that will not wait for the report.
 */
export function watchInterrupts(): Interruption {
  const controller = new AbortController();
  let by: InterruptSignal | undefined;
  const handle = (signal: InterruptSignal) => {
    if (by !== undefined) process.exit(interruptExitCode(signal));
    by = signal;
    controller.abort();
  };
  const onSigint = () => {
    handle('SIGINT');
  };
  const onSigterm = () => {
    handle('SIGTERM');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return {
    signal: controller.signal,
    get by() {
      return by;
    },
    dispose() {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}
