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

/**
 * The same text as renderMetrics, in pieces with a turn of the event loop between them, for
 * GET /metrics. With 10,000 checks the text is ~10 MB, and building it in one go held the event
 * loop for ~100 ms of CPU, so every run due meanwhile started late (bench/README.md); streamed,
 * the longest hold is one piece.
 */
export async function* streamMetrics(daemon: DaemonMetrics, store: SeriesStore): AsyncGenerator<string> {
  const daemonText = await daemon.registry.metrics();
  yield daemonText.endsWith('\n') ? daemonText : `${daemonText}\n`;
  for (const piece of store.renderChunks()) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield piece;
  }
}
