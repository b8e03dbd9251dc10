import type { FastifyInstance, FastifyReply } from 'fastify';
import { tokenCheck } from './auth.js';
import { z } from 'zod';
import type { GateAnswer } from '../gate/gate-answer.js';
import { splitNames } from '../gate/selection.js';
import { GATE_BODY_LIMIT, isRefusal, type GateRefusal, type GateRequest } from './gate-request.js';

/** The status of a red gate for Flagger: see registerFlaggerRoute. */
export const FLAGGER_RED_STATUS = 412;

/** The gate's settings in a webhook's `metadata` (Flagger sends it as a map of strings). */
const flaggerMetadata = z.strictObject({
  checks: z.string().max(64 * 1024).optional().meta({ description: 'check names separated by commas' }),
  labels: z.string().max(16 * 1024).optional().meta({ description: 'key=value pairs separated by commas: only checks with all these static labels' }),
  release: z.string().min(1).max(256).optional(),
  wait: z.string().optional().meta({ description: 'true, false or a duration' }),
  every: z.string().optional(),
  timeout: z.string().optional().meta({ description: 'default 8s: under the 10s Flagger waits for a webhook that sets no timeout' }),
  token: z.string().max(4096).optional().meta({ description: "the API token, for a Flagger that cannot send an Authorization header (it cannot): never echoed" }),
});

/** Without metadata.timeout: under the 10 s Flagger gives a webhook without `timeout:` (pkg/controller/webhook.go). */
export const FLAGGER_DEFAULT_TIMEOUT = '8s';

/** Flagger's webhook payload (CanaryWebhookPayload): fields Flagger adds in later versions are let through. */
export const flaggerPayload = z.object({
  name: z.string().min(1).max(253),
  namespace: z.string().min(1).max(253),
  phase: z.string().max(64),
  checksum: z.string().max(1024).optional(),
  metadata: flaggerMetadata.optional(),
});

type GateRunner = (request: GateRequest, reply: FastifyReply) => Promise<GateAnswer | GateRefusal>;

/**
 * POST /api/v1/gate/flagger: a Flagger webhook (pre-rollout, rollout, confirm-promotion,
 * confirm-rollout). Flagger reads only the status: up to 202 goes on, anything else holds or
 * counts a failure (pkg/controller/webhook.go: StatusCode > 202 is an error). Green is 200; red is 412 Precondition Failed (the precondition of the next step does
 * not hold), not a 5xx, so driftwatch's own errors stay told apart from a red gate in Flagger's
 * events and in whatever alerts on 5xx, and Flagger's HTTP client (go-retryablehttp, with
 * `retries:`) does not retry it at once: it retries 5xx, and a red gate asked again within the
 * same second answers the same. Bad metadata is 400, an unknown check 404: a "no" too,
 * never a silent pass. The body is the gate's JSON either way, for Flagger's event log and people.
 */
export function registerFlaggerRoute(app: FastifyInstance, runGate: GateRunner, token: string | undefined): void {
  const accepts = tokenCheck(token);
  app.post('/api/v1/gate/flagger', { bodyLimit: GATE_BODY_LIMIT }, async (request, reply) => {
    const parsed = flaggerPayload.safeParse(request.body);
    // Flagger sends no headers of its own: the token comes as metadata.token, or as a bearer header a proxy adds.
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    const given = bearer ?? metadataToken(request.body);
    if (accepts !== undefined && (given === undefined || !accepts(given))) {
      return reply.code(401).send({ error: 'unauthorized', code: 'DRIFTWATCH_UNAUTHORIZED', message: 'a token is required: metadata.token in the webhook, or Authorization: Bearer TOKEN' });
    }
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_BODY', message });
    }
    const metadata = parsed.data.metadata ?? {};
    const labels = parseLabels(metadata.labels);
    if (typeof labels === 'string') return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_BODY', message: labels });
    const gate: GateRequest = {
      selection: { names: splitNames(metadata.checks === undefined ? [] : [metadata.checks]), labels },
      release: metadata.release,
      wait: parseWait(metadata.wait),
      every: metadata.every,
      timeout: metadata.timeout ?? FLAGGER_DEFAULT_TIMEOUT,
    };
    const answer = await runGate(gate, reply);
    if (isRefusal(answer)) return reply.code(answer.status).send(answer.body);
    const { name, namespace, phase } = parsed.data;
    return reply.code(answer.passed ? 200 : FLAGGER_RED_STATUS).send({ ...answer, canary: { name, namespace, phase } });
  });
}

/** metadata.token as sent, read before the payload is checked: a bad payload of a caller with the token is a 400, not a 401. */
function metadataToken(body: unknown): string | undefined {
  const token = z.object({ metadata: z.object({ token: z.string() }) }).safeParse(body);
  return token.success ? token.data.metadata.token : undefined;
}

/** "true"/"false" as booleans (metadata values are strings), anything else as a duration. */
function parseWait(text: string | undefined): boolean | string | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}

/** "team=hub,tier=edge" as labels; undefined when absent; a message when malformed. */
function parseLabels(text: string | undefined): Record<string, string> | undefined | string {
  if (text === undefined || text.trim() === '') return undefined;
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at < 0 || key === '') return `metadata.labels: expected key=value pairs separated by commas, like team=hub,tier=edge, got "${pair.trim()}"`;
    labels[key] = pair.slice(at + 1).trim();
  }
  return labels;
}
