import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../config/duration.js';
import { selectChecks } from '../gate/selection.js';
import type { WindowStore } from '../state/windows.js';
import { MAX_GATE_CHECKS } from './gate-request.js';
import type { ServedDaemon } from './served-daemon.js';

/** A deploy window ends within a day: a rollout that takes longer is not converging, it is broken. */
export const MAX_WINDOW_MS = 24 * 3_600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const name = z.string().min(1).max(253);

/** The JSON body of POST /api/v1/windows: a selection as the gate takes it, a release and an end. */
export const windowBody = z.strictObject({
  checks: z.array(name).max(MAX_GATE_CHECKS).optional().meta({ description: 'these checks (by name)' }),
  labels: z
    .record(z.string().min(1).max(128), z.string().max(1024))
    .refine((labels) => Object.keys(labels).length <= 16, 'at most 16 labels')
    .optional()
    .meta({ description: 'checks whose static labels have all these values (a group)' }),
  release: z.string().min(1).max(256).optional().meta({ description: 'the release being rolled out (the unconverged alert names it)' }),
  until: z.string().max(64).meta({ description: 'when the window ends at the latest: a duration from now (30m) or an RFC 3339 time, at most 24h ahead' }),
});

type Refusal = { status: 400 | 404 | 429; code: string; message: string };
const refuse = (status: Refusal['status'], code: string, message: string): Refusal => ({ status, code, message });

/** `until` as epoch ms, or what is wrong with it. */
export function parseUntil(text: string, now: number): number | string {
  const ms = parseDuration(text);
  const at = ms !== undefined ? now + ms : RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) return `until: expected a duration such as 30m or an RFC 3339 time such as 2026-12-07T03:00:00Z, got "${text}"`;
  if (at <= now) return `until: ${text} is not in the future`;
  if (at - now > MAX_WINDOW_MS) return `until: at most ${formatDuration(MAX_WINDOW_MS)} ahead, got ${text}`;
  return at;
}

/**
 * POST, GET and DELETE /api/v1/windows (docs/gate.md "Deploy windows"). Opening and closing
 * need the token, as /probe; listing does not, as the check list.
 */
export function registerWindowRoutes(app: FastifyInstance, daemon: ServedDaemon, windows: WindowStore, auth: preHandlerAsyncHookHandler): void {
  app.post('/api/v1/windows', { preHandler: auth, bodyLimit: 64 * 1024 }, async (request, reply) => {
    const parsed = windowBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_BODY', message });
    }
    const opened = openWindow(daemon, windows, parsed.data);
    if ('status' in opened) return reply.code(opened.status).send({ error: opened.status === 404 ? 'not found' : opened.status === 429 ? 'busy' : 'bad request', code: opened.code, message: opened.message });
    return reply.code(201).send(opened);
  });
  app.get('/api/v1/windows', async () => windows.list());
  app.get<{ Params: { id: string } }>('/api/v1/windows/:id', async (request, reply) => {
    const window = windows.get(request.params.id);
    return window ? window : reply.code(404).send(notFound(request.params.id));
  });
  app.delete<{ Params: { id: string } }>('/api/v1/windows/:id', { preHandler: auth }, async (request, reply) => {
    const window = windows.close(request.params.id);
    return window ? window : reply.code(404).send(notFound(request.params.id));
  });
}

const notFound = (id: string) => ({ error: 'not found', code: 'DRIFTWATCH_WINDOW_NOT_FOUND', message: `no open window with id "${id}"` });

function openWindow(daemon: ServedDaemon, windows: WindowStore, body: z.infer<typeof windowBody>) {
  const untilMs = parseUntil(body.until, Date.now());
  if (typeof untilMs === 'string') return refuse(400, 'DRIFTWATCH_BAD_BODY', untilMs);
  if (body.checks === undefined && body.labels === undefined) return refuse(400, 'DRIFTWATCH_EMPTY_SELECTION', 'name the checks or labels the window is for: a window over every check would silence every alert');
  const selected = selectChecks(daemon.state.all().map((entry) => entry.check), { names: body.checks, labels: body.labels });
  if (selected.unknown !== undefined) return refuse(404, 'DRIFTWATCH_CHECK_NOT_FOUND', `no check named ${selected.unknown.map((n) => `"${n}"`).join(', ')}`);
  if (selected.checks.length === 0) return refuse(400, 'DRIFTWATCH_EMPTY_SELECTION', 'the selection matches no check: no check has those labels');
  if (selected.checks.length > MAX_GATE_CHECKS) return refuse(400, 'DRIFTWATCH_SELECTION_TOO_LARGE', `the selection matches ${selected.checks.length} checks, at most ${MAX_GATE_CHECKS} per window`);
  const window = windows.open({ checks: selected.checks.map((c) => c.spec.name), release: body.release, untilMs, openedBy: 'api' });
  return typeof window === 'string' ? refuse(429, 'DRIFTWATCH_BUSY', window) : window;
}
