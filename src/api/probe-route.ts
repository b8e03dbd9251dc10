import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ServedDaemon } from './served-daemon.js';
import { renderProbe } from '../metrics/probe-exposition.js';
import { METRICS_CONTENT_TYPE } from '../metrics/exposition.js';
import { scrapeTimeoutMs, wantsExposition } from './scrape-request.js';

const probeQuery = z
  .strictObject({
    check: z.string({ error: 'expected one check name, like check=hub-dns' }).min(1, 'expected a check name, like check=hub-dns').optional(),
    module: z
      .string({ error: 'expected one module name, like module=http_2xx' })
      .min(1, 'expected a module (check) name, like module=http_2xx')
      .optional()
      .meta({ description: "blackbox_exporter's name for the check used as a template" }),
    format: z.enum(['json', 'prometheus'], { error: 'expected json or prometheus, like format=prometheus' }).optional(),
    debug: z
      .enum(['true', 'false', '1', '0'], { error: 'expected true or false, like debug=true' })
      .optional()
      .transform((v) => v === 'true' || v === '1'),
    target: z.string({ error: 'expected one target, like target=https://hub.example.com/health' }).min(1, 'expected a target, like target=https://hub.example.com/health').optional(),
  }, { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')} (accepted: check, module, target, format, debug)` : undefined) })
  // Checked despite other problems (`when`), so one answer names them all; it reads only two keys.
  .refine((q) => (q.check === undefined) !== (q.module === undefined), { error: 'give check=NAME or module=NAME (one of them), like /probe?check=hub-dns', path: ['check'], when: () => true });

/**
 * GET /probe: run a named check now (docs/blackbox.md). `check=NAME` answers the result JSON,
 * `module=NAME` (blackbox_exporter's parameter) the Prometheus text format; an Accept header
 * asking for the text format (as Prometheus sends it) or `format=` decide otherwise. Like
 * blackbox, a failed check is still a 200 answer: the failure is in the body (ok, probe_success),
 * and a run never outlives the scrape that asked for it (X-Prometheus-Scrape-Timeout-Seconds)
 * nor the caller's connection.
 */
export function registerProbeRoute(app: FastifyInstance, daemon: ServedDaemon, auth: preHandlerAsyncHookHandler): void {
  app.get('/probe', { preHandler: auth }, async (request, reply) => {
    const parsed = parseQuery(request.url, request.query);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_QUERY', message });
    }
    const { check, module, format, debug, target } = parsed.data;
    const timeout = scrapeTimeoutMs(request.headers['x-prometheus-scrape-timeout-seconds']);
    if (timeout.error !== undefined) return reply.code(400).send({ error: 'bad request', code: 'DRIFTWATCH_BAD_SCRAPE_TIMEOUT', message: timeout.error });
    const name = check ?? moduleCheck(daemon, module ?? '');
    const onCallerGone = (cancel: (why: string) => void) => {
      callerGone(reply, cancel);
    };
    const run = await daemon.runNow(name, { debug, target, targetAs: module === undefined ? 'check' : 'module', timeoutMs: timeout.ms, onCallerGone });
    const exposition = format === undefined ? wantsExposition(request.headers.accept, module !== undefined) : format === 'prometheus';
    // As bytes: a string would be joined to the status line and headers as one more copy of the text.
    if (exposition) return reply.type(METRICS_CONTENT_TYPE).send(renderProbe(run, run.timeoutMs));
    return run.result;
  });
}

type ProbeQuery = ReturnType<typeof probeQuery.safeParse>;

/**
 * The query checked once per distinct URL: Prometheus asks the same few URLs over and over, and
 * the schema's parse was a visible share of a probe's CPU (issue 29). The same URL always gives
 * the same query, and the parsed value is only read. Bounded: cleared when full.
 */
const MAX_QUERIES = 128;
const parsedQueries = new Map<string, ProbeQuery>();
function parseQuery(url: string, query: unknown): ProbeQuery {
  let parsed = parsedQueries.get(url);
  if (parsed === undefined) {
    parsed = probeQuery.safeParse(query);
    if (parsedQueries.size >= MAX_QUERIES) parsedQueries.clear();
    parsedQueries.set(url, parsed);
  }
  return parsed;
}

/**
 * blackbox module names use underscores (http_2xx), check names cannot: module=http_2xx finds
 * the check named http_2xx's dashed form (http-2xx), as `driftwatch import blackbox` names them.
 */
function moduleCheck(daemon: ServedDaemon, module: string): string {
  return daemon.state.get(module) ? module : module.replaceAll('_', '-');
}

/**
 * Cancels the run when the caller's connection closes before the answer is sent (Prometheus gave
 * up, a curl was interrupted), so the run stops and frees its slot.
 */
function callerGone(reply: FastifyReply, cancel: (why: string) => void): void {
  // 'close' comes when the answer is complete or when the connection ended before it was.
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) cancel('caller went away');
  });
}
