import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ServedDaemon } from './served-daemon.js';
import { gzipPieces, METRICS_CONTENT_TYPE } from '../metrics/exposition.js';
import { acceptsGzip } from './scrape-request.js';

/**
 * GET /metrics, streamed: with 10,000 checks the text is ~10 MB, too much to build without
 * starving the scheduler. A scrape that accepts gzip (Prometheus always does) gets the same
 * pieces compressed as they come, ~17x smaller on the wire; any other gets the plain text.
 */
export function registerMetricsRoute(app: FastifyInstance, daemon: ServedDaemon): void {
  app.get('/metrics', async (request, reply) => {
    // Either answer may be cached for the other kind of client, unless a cache is told they differ.
    reply.type(METRICS_CONTENT_TYPE).header('vary', 'accept-encoding');
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(Readable.from(daemon.streamMetrics(), { objectMode: false }));
    return reply.header('content-encoding', 'gzip').send(gzipPieces(daemon.streamMetrics()));
  });
}
