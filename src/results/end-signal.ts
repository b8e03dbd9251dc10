/**
 * The part of an AbortSignal that a run's I/O reads: whether and why the run ended early, and a
 * listener for when it does. The runner's RunDeadline is one without making an AbortSignal (on
 * Node 20 every AbortSignal outlives the young generation and keeps the run's objects with it:
 * bench/README.md, "Allocation per probe"); an AbortSignal is one too, so a caller may pass either.
 */
export interface EndSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
