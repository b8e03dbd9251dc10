/** The signals that interrupt `driftwatch run`: Ctrl-C, and a CI runner cancelling the job or a step timing out. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const SIGNAL_NUMBERS: Record<InterruptSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** The shell's exit code for a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export function interruptExitCode(signal: InterruptSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** The abort reason of an interrupted gate: its message is what a cancelled run reports. */
export class GateInterrupted extends Error {
  override name = 'GateInterrupted';
  constructor(readonly signal: InterruptSignal) {
    super('driftwatch run interrupted');
  }
}

export interface Interruption {
  /** Aborts at the first SIGINT or SIGTERM, with a GateInterrupted reason. */
  readonly signal: AbortSignal;
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
  const handle = (signal: InterruptSignal) => {
    if (controller.signal.aborted) process.exit(interruptExitCode(signal));
    controller.abort(new GateInterrupted(signal));
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
    dispose() {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}
