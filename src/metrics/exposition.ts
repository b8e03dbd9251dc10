import type { DaemonMetrics } from './daemon-metrics.js';
import type { SeriesStore } from './series-store.js';

/** What GET /metrics answers with: the text format both halves are written in. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The whole /metrics text: prom-client's daemon-wide families, then the store's per-check ones.
 * The two never share a family name, so concatenating them keeps every family in one group.
 */
export async function renderMetrics(daemon: DaemonMetrics, store: SeriesStore): Promise<string> {
  const daemonText = await daemon.registry.metrics();
  return daemonText.endsWith('\n') ? daemonText + store.render() : `${daemonText}\n${store.render()}`;
}
