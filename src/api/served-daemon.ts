import type { LoadedCheck } from '../checks/registry.js';
import type { Run } from '../results/run.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { CheckEntry as StateEntry, StateStore } from '../state/state-store.js';
import type { WindowStore } from '../state/windows.js';

/**
 * What the API serves: the part of the daemon its routes read and call. The API declares it and
 * src/daemon implements it (DESIGN section 1), so nothing here imports the daemon.
 */
export interface ServedDaemon {
  readonly state: Pick<StateStore<LoadedCheck>, 'get' | 'all'>;
  readonly scheduler: Pick<Scheduler, 'nextRunAt'>;
  /** Deploy windows (POST /api/v1/windows, a gate with wait): in memory, kept over reloads; absent in API tests of other parts. */
  readonly windows?: WindowStore | undefined;
  readonly lastReload: ReloadOutcome | undefined;
  /** Later loads (SIGHUP, POST /-/reload): an invalid file keeps the old checks running. */
  reload(): Promise<ReloadOutcome>;
  runNow(name: string, options?: RunNowOptions): Promise<OnDemandRun>;
  /** The /metrics text in pieces, yielding to the event loop between them. */
  streamMetrics(): AsyncIterable<string>;
  isReady(): boolean;
}

/** One check as the API and the status page show it, with the registry's spec types. */
export type CheckEntry = StateEntry<LoadedCheck>;

export interface RunNowOptions {
  debug?: boolean;
  target?: string | undefined;
  /** Read `target` as a blackbox module's prober would (/probe?module=). */
  targetAs?: 'check' | 'module';
  /** At most this long, waiting for a slot included (a Prometheus scrape's timeout less its margin). */
  timeoutMs?: number | undefined;
  /**
   * Handed the run's cancel once, for the caller to call when it goes away (the connection closed
   * before the answer): the run stops waiting or running, frees its slot, records nothing. A hook,
   * not a signal: a run keeps one abort signal of its own (runner/run-deadline.ts).
   */
  onCallerGone?: ((cancel: (why: string) => void) => void) | undefined;
  /**
   * Join a run of this check that another gate caller started and that is still going, instead
   * of probing the target twice (POST /api/v1/gate); ignored with target or debug.
   */
  join?: boolean | undefined;
  /** The release under verification when it is not the daemon's (serve --release): such a run is not recorded. */
  release?: string | undefined;
}

/** An on-demand run and the time limit it ran under (probe_timeout_seconds). */
export interface OnDemandRun extends Run {
  timeoutMs: number;
}

export interface ReloadOutcome {
  ok: boolean;
  checks: number;
  problems: string[];
  at: string;
}
