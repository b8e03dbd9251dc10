import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The few daemon-wide metrics (DESIGN section 3), in the prom-client registry the caller hands
 * in. They carry no `check` label, so their count does not grow with the checks and prom-client's
 * render cost stays small; the per-check series live in the series store.
 */
export interface DaemonMetrics {
  registry: Registry;
  /**
   * driftwatch_config_last_reload_successful, and blackbox_exporter's two reload gauges beside it
   * (set together: one call per load or reload).
   */
  configReloadSuccessful: { set(value: 0 | 1): void };
  /** driftwatch_checks */
  checks: Gauge;
  /** driftwatch_scheduler_lag_seconds */
  schedulerLag: Histogram;
  /** driftwatch_check_run_duration_seconds{type}: one histogram per check type, never per check. */
  observeRun(type: string, seconds: number): void;
  /**
   * driftwatch_check_window{check,kind}: 1 for each check in an open deploy or maintenance window,
   * read from `source` at each scrape; no series for checks outside one.
   */
  windowsFrom(source: () => Iterable<readonly [string, WindowKind]>): void;
  /** driftwatch_windows_unconverged_total{release}: deploy windows that reached `until` before every check passed. */
  windowOpened(release: string | undefined): void;
  windowUnconverged(release: string | undefined): void;
}

export type WindowKind = 'deploy' | 'maintenance';

/** A run starts late by milliseconds when all is well and by seconds when the concurrency cap bites. */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Up to the longest sensible timeout: runs are cut off at theirs (10s by default). */
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createDaemonMetrics(registry: Registry, options: { location?: string }): DaemonMetrics {
  if (options.location !== undefined && options.location !== '') registry.setDefaultLabels({ location: options.location });
  collectDefaultMetrics({ register: registry });
  const configReloadSuccessful = new Gauge({
    name: 'driftwatch_config_last_reload_successful',
    help: 'Whether the last load or reload of the check files succeeded (1) or kept the old checks (0).',
    registers: [registry],
  });
  // blackbox_exporter's names and help texts (main.go of 0.23), so its users' reload alert
  // (blackbox_exporter_config_last_reload_successful != 1) fires on driftwatch's failed reload too.
  const blackboxReloadSuccessful = new Gauge({
    name: 'blackbox_exporter_config_last_reload_successful',
    help: 'Blackbox exporter config loaded successfully.',
    registers: [registry],
  });
  const blackboxReloadTimestamp = new Gauge({
    name: 'blackbox_exporter_config_last_reload_success_timestamp_seconds',
    help: 'Timestamp of the last successful configuration reload.',
    registers: [registry],
  });
  const reloaded = {
    set(value: 0 | 1) {
      configReloadSuccessful.set(value);
      blackboxReloadSuccessful.set(value);
      if (value === 1) blackboxReloadTimestamp.set(Date.now() / 1000);
    },
  };
  const checks = new Gauge({
    name: 'driftwatch_checks',
    help: 'Checks loaded (on this shard).',
    registers: [registry],
  });
  const schedulerLag = new Histogram({
    name: 'driftwatch_scheduler_lag_seconds',
    help: 'How late runs start against their scheduled slot.',
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'driftwatch_check_run_duration_seconds',
    help: 'Durations of all runs of a check type.',
    labelNames: ['type'],
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  let windowSource: () => Iterable<readonly [string, WindowKind]> = () => [];
  // A daemon-wide metric with a check label rather than a per-check family: only the few checks in
  // a window have a series, and the alert rules match it by (check, location) across replicas.
  new Gauge({
    name: 'driftwatch_check_window',
    help: 'Checks in an open deploy or maintenance window (1): their failures are converging or expected, and the shipped alerts do not fire for them.',
    labelNames: ['check', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [check, kind] of windowSource()) this.set({ check, kind }, 1);
    },
  });
  const unconverged = new Counter({
    name: 'driftwatch_windows_unconverged_total',
    help: 'Deploy windows that reached their until before every selected check passed, by release.',
    labelNames: ['release'],
    registers: [registry],
  });
  return {
    registry,
    configReloadSuccessful: reloaded,
    checks,
    schedulerLag,
    observeRun(type, seconds) {
      runDuration.observe({ type }, seconds);
    },
    windowsFrom(source) {
      windowSource = source;
    },
    // The release's series starts at 0 when its window opens, so that increase() sees the step to 1.
    windowOpened(release) {
      unconverged.inc({ release: release ?? '' }, 0);
    },
    windowUnconverged(release) {
      unconverged.inc({ release: release ?? '' });
    },
  };
}
