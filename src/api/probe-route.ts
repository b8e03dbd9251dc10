import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Daemon } from '../daemon.js';
import { renderProbe } from '../metrics/probe-exposition.js';
import { METRICS_CONTENT_TYPE } from '../metrics/exposition.js';

const probeQuery = z.strictObject({
  check: z.string().min(1),
  format: z.enum(['json', 'prometheus']).default('json'),
  debug: z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1'),
  target: z.string().min(1).optional(),
});

/**
 * GET /probe?check=NAME: run a named check now. Like blackbox_exporter, a failed check is
 * still a 200 answer: the failure is in the body (ok, probe_success).
 */
export function registerProbeRoute(app: FastifyInstance, daemon: Daemon, auth: preHandlerAsyncHookHandler): void {
  app.get('/probe', { preHandler: auth }, async (request, reply) => {
    const parsed = probeQuery.safeParse(request.query);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_QUERY', message });
    }
    const { check, format, debug, target } = parsed.data;
    const run = await daemon.runNow(check, { debug, target });
    if (format === 'prometheus') return reply.type(METRICS_CONTENT_TYPE).send(renderProbe(run));
    return run.result;
  });
}
