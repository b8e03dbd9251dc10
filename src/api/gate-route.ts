import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { createGateRunner, GATE_BODY_LIMIT, isRefusal, MAX_GATE_CHECKS, type GateRequest } from './gate-request.js';
import { registerFlaggerRoute } from './gate-flagger-route.js';
import type { ServedDaemon } from './served-daemon.js';

const name = z.string().min(1).max(253);

/** The JSON body of POST /api/v1/gate. */
export const gateBody = z.strictObject({
  checks: z.array(name).max(MAX_GATE_CHECKS).optional().meta({ description: 'only these checks (as `driftwatch run --only`)' }),
  labels: z
    .record(z.string().min(1).max(128), z.string().max(1024))
    .refine((labels) => Object.keys(labels).length <= 16, 'at most 16 labels')
    .optional()
    .meta({ description: 'only checks whose static labels have all these values' }),
  release: z.string().min(1).max(256).optional().meta({ description: 'the release under verification: {release} in expectations' }),
  wait: z.union([z.boolean(), z.string()]).optional().meta({ description: 'false (default): one round; true: rerun what fails while the timeout allows; a duration: at most that long' }),
  every: z.string().optional().meta({ description: 'with wait: the longest pause between reruns (default 10s)' }),
  timeout: z.string().optional().meta({ description: 'the answer comes within this (default 30s, at most 10m)' }),
});

/**
 * POST /api/v1/gate and POST /api/v1/gate/flagger (docs/gate.md): the post-deploy gate of
 * `driftwatch run --wait` as an HTTP call, for Argo Rollouts' web metric provider, Flagger's
 * webhooks and anything else that can POST. Auth as /probe.
 *
 * /api/v1/gate answers 200 whenever the gate decided, red or green (`passed`): Argo Rollouts
 * reads a non-2xx answer as a measurement *error* (retried, counted against
 * consecutiveErrorLimit), not as a failed analysis; only a 2xx body reaches its successCondition.
 * A request it cannot run is a 4xx, which no caller can mistake for a green gate.
 */
export function registerGateRoutes(app: FastifyInstance, daemon: ServedDaemon, auth: preHandlerAsyncHookHandler, token: string | undefined): void {
  const runGate = createGateRunner(daemon);
  app.post('/api/v1/gate', { preHandler: auth, bodyLimit: GATE_BODY_LIMIT }, async (request, reply) => {
    const parsed = gateBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_BODY', message });
    }
    const body = parsed.data;
    const gate: GateRequest = { selection: { names: body.checks, labels: body.labels }, release: body.release, wait: body.wait, every: body.every, timeout: body.timeout };
    const answer = await runGate(gate, reply);
    if (isRefusal(answer)) return reply.code(answer.status).send(answer.body);
    return reply.code(200).send(answer);
  });
  registerFlaggerRoute(app, runGate, token);
}
