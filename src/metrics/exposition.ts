import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
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

/**
 * zlib's fastest level. The exposition is label text repeated line after line, which level 1
 * already shrinks ~17x (10,000 checks: 12.6 MB -> 0.74 MB); the default 6 made it 13 % smaller
 * still for about twice the compression CPU (100,000 checks: 570-580 ms against 250-320 ms on
 * top of the render; bench/README.md), and a scrape's CPU is taken from the checks' runs.
 */
export const GZIP_LEVEL = 1;

/**
 * The pieces of streamMetrics, gzip-compressed as they come: the text is never whole in memory,
 * and zlib compresses on libuv's thread pool, so the event loop only renders pieces as before.
 * When the reader goes away mid-scrape and destroys the returned stream, pipeline destroys the
 * source too, which returns the generator (no parked render holding a family's checks).
 */
export function gzipPieces(pieces: AsyncIterable<string>, level: number = GZIP_LEVEL): Readable {
  const gzip = createGzip({ level });
  // An error (or the reader leaving) destroys every stream of the pipeline, gzip with it, and
  // the reader of gzip sees it; nothing is left to report here.
  pipeline(Readable.from(pieces, { objectMode: false }), gzip, () => undefined);
  return gzip;
}
