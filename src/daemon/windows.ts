import type { Logger } from 'pino';
import type { LoadedCheck } from '../checks/registry.js';
import type { DaemonMetrics, WindowKind } from '../metrics/daemon-metrics.js';
import type { StateStore } from '../state/state-store.js';
import { inMaintenance } from '../state/maintenance.js';
import { createWindowStore, type WindowStore } from '../state/windows.js';
import type { Recorder } from './recorder.js';

/**
 * The daemon's deploy windows: marks on the check entries (their state reads "converging"), the
 * driftwatch_check_window gauge (deploy and maintenance windows), and the unconverged counter
 * and log line when a window reaches its `until` before every check passed.
 */
export function createDaemonWindows(options: { state: StateStore<LoadedCheck>; metrics: DaemonMetrics; log: Logger }): WindowStore {
  const { state, metrics, log } = options;
  const windows = createWindowStore({
    mark(name, mark) {
      const entry = state.get(name);
      if (entry !== undefined) entry.window = mark;
    },
    onOpen(window) {
      metrics.windowOpened(window.release);
      log.info({ window: window.id, release: window.release, checks: window.checks.length, until: window.until }, 'deploy window opened');
    },
    onClose(window) {
      if (window.outcome !== 'unconverged') {
        log.info({ window: window.id, release: window.release, outcome: window.outcome }, 'deploy window closed');
        return;
      }
      metrics.windowUnconverged(window.release);
      log.warn({ window: window.id, release: window.release, failing: window.pending }, `deploy window did not converge: ${window.pending.join(', ')} still failing at its end`);
    },
  });
  metrics.windowsFrom(() => inWindows(state, windows));
  return windows;
}

/** The checks in a window now, deploy first, for the gauge (once per scrape). */
function* inWindows(state: StateStore<LoadedCheck>, windows: WindowStore): Generator<readonly [string, WindowKind]> {
  const deploy = new Set(windows.list().open.flatMap((w) => w.checks));
  for (const name of deploy) if (state.get(name) !== undefined) yield [name, 'deploy'];
  const now = Date.now();
  for (const entry of state.all()) {
    const maintenance = entry.check.spec.maintenance;
    if (maintenance !== undefined && maintenance.length > 0 && inMaintenance(maintenance, now)) yield [entry.check.spec.name, 'maintenance'];
  }
}

/** Every recorded result also goes to the windows: a pass may close one as converged. */
export function withWindows(recorder: Recorder, windows: WindowStore): Recorder {
  return {
    ...recorder,
    record(check, run) {
      recorder.record(check, run);
      windows.observe(run.result);
    },
  };
}
