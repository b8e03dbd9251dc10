import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ServedDaemon } from './served-daemon.js';
import type { CheckIndex } from './check-index.js';
import { describeQueryProblems, listQuery, pageOfChecks } from './check-list.js';
import { specView, summarizeCheck } from './check-view.js';

const nameParams = z.object({ name: z.string() });

/** GET /api/v1/checks (a page at a time), GET /api/v1/checks/:name, POST /api/v1/checks/:name/run. */
export function registerCheckRoutes(app: FastifyInstance, daemon: ServedDaemon, index: CheckIndex, auth: preHandlerAsyncHookHandler): void {
  app.get('/api/v1/checks', async (request, reply) => {
    const query = listQuery.safeParse(request.query);
    if (!query.success) return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_QUERY', message: describeQueryProblems(query.error) });
    const page = pageOfChecks(index.byName(), query.data);
    return {
      checks: page.entries.map((entry) => summarizeCheck(entry, daemon.scheduler)),
      total: page.total,
      ...(page.next !== undefined && { next: page.next }),
      reload: daemon.lastReload,
    };
  });

  app.get('/api/v1/checks/:name', async (request, reply) => {
    const { name } = nameParams.parse(request.params);
    const entry = daemon.state.get(name);
    if (!entry) return reply.code(404).send({ error: 'not found', code: 'DRIFTWATCH_CHECK_NOT_FOUND', message: `no check named "${name}"` });
    return { ...summarizeCheck(entry, daemon.scheduler), spec: specView(entry), recent: entry.history.list() };
  });

  app.post('/api/v1/checks/:name/run', { preHandler: auth }, async (request) => {
    const { name } = nameParams.parse(request.params);
    const run = await daemon.runNow(name);
    return run.result;
  });
}
