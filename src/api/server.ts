import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { BusyError } from '../scheduler/concurrency-limit.js';
import type { ServedDaemon } from './served-daemon.js';
import { CheckNotFoundError, TargetNotAllowedError } from '../results/errors.js';
import { requireToken } from './auth.js';
import { createCheckIndex } from './check-index.js';
import { registerGateRoutes } from './gate-route.js';
import { registerCheckRoutes } from './check-routes.js';
import { registerMetricsRoute } from './metrics-route.js';
import { openApiDocument } from './openapi-document.js';
import { registerProbeRoute } from './probe-route.js';
import { registerStatusPage } from './status-page.js';
import { registerBadgeRoute } from './badge-route.js';
import { prometheusUptime } from './prometheus-uptime.js';
import { registerWindowRoutes } from './window-route.js';

export interface ApiOptions {
  daemon: ServedDaemon;
  log: Logger;
  /** When set, /probe and the POST routes require `Authorization: Bearer TOKEN`. */
  token?: string | undefined;
  version: string;
  /** Prometheus's base URL: the status page and badges read long-range uptime from it. */
  prometheusUrl?: string | undefined;
  /** Badges readable without the token (GET /api/v1/checks/:name/badge.svg). */
  publicBadges?: boolean | undefined;
}

/** While the server closes, how often connections that have become idle are closed. */
const CLOSE_SWEEP_MS = 50;

/** Builds the HTTP API (DESIGN section 4) without listening, so tests can inject(). */
export function buildApi(options: ApiOptions): FastifyInstance {
  const { daemon } = options;
  // pino's Logger is a FastifyBaseLogger; the cast only keeps fastify's generics at their defaults.
  const apiLog: FastifyBaseLogger = options.log.child({ component: 'api' });
  // No child logger per request: request logging is off, and a child per request re-ran pino's
  // redaction set-up on every /probe (3.4 KB and measurable CPU each, issue 29). The few lines a
  // request writes (a 5xx) name the route themselves.
  const app = Fastify({ loggerInstance: apiLog, childLoggerFactory: (logger) => logger, logController: new LogController({ disableRequestLogging: true }), return503OnClosing: true });
  const auth = requireToken(options.token);
  // Closing: a keep-alive connection whose request was still in flight when the server closed
  // becomes idle only after its answer, and then held close() until fastify's keep-alive timeout
  // (72 s) or the client hung up: a browser on the status page or a scrape at SIGTERM held the
  // shutdown that long. While closing, idle connections are closed as they appear.
  app.addHook('preClose', (done) => {
    const sweep = setInterval(() => {
      app.server.closeIdleConnections();
    }, CLOSE_SWEEP_MS).unref();
    app.server.once('close', () => {
      clearInterval(sweep);
    });
    done();
  });

  app.setErrorHandler(async (err, request, reply) => {
    const status = statusFor(err);
    if (status >= 500) request.log.error({ err, method: request.method, route: request.routeOptions.url }, 'request failed');
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'DRIFTWATCH_ERROR';
    const message = err instanceof Error ? err.message : 'internal error';
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : 'request failed', code, message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = daemon.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: daemon.state.all().length });
  });
  registerMetricsRoute(app, daemon);
  app.post('/-/reload', { preHandler: auth }, async (_request, reply) => {
    const outcome = await daemon.reload();
    return reply.code(outcome.ok ? 200 : 422).send(outcome);
  });
  app.get('/api/v1/openapi.json', async () => openApiDocument(options.version));
  registerProbeRoute(app, daemon, auth);
  registerGateRoutes(app, daemon, auth, options.token);
  if (daemon.windows !== undefined) registerWindowRoutes(app, daemon, daemon.windows, auth);
  // One name order for the list and the status page, sorted again only when the checks change.
  const index = createCheckIndex(daemon.state);
  registerCheckRoutes(app, daemon, index, auth);
  const uptime = options.prometheusUrl === undefined ? undefined : prometheusUptime(options.prometheusUrl);
  registerBadgeRoute(app, daemon, auth, { public: options.publicBadges === true, uptime });
  registerStatusPage(app, daemon, index, uptime);
  return app;
}

function statusFor(err: unknown): number {
  if (err instanceof CheckNotFoundError) return 404;
  if (err instanceof TargetNotAllowedError) return 403;
  if (err instanceof BusyError) return 429;
  if (typeof err === 'object' && err !== null && 'statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400) return err.statusCode;
  return 500;
}
