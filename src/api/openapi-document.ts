import { REASONS } from '../results/result.js';
import { MAX_PAGE_SIZE, PAGE_SIZE } from './check-list.js';
import { CHECK_STATUSES } from './check-view.js';
import { gateAnswerSchema, gatePaths } from './gate-openapi.js';
import { windowPaths, windowSchema } from './window-openapi.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = { description: 'error', ...json(ref('Error')) };
const secured = [{ bearer: [] }];
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const status = { type: 'string', enum: [...CHECK_STATUSES] };

/** GET /api/v1/checks's query: paging (limit, cursor) and the filters an operator of 100,000 checks needs. */
const listParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: PAGE_SIZE }, description: `checks per page; more than ${MAX_PAGE_SIZE} is refused (400), not capped` },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: "the previous answer's next, unchanged (opaque); the page continues after the last check of that page in name order, so checks added or removed meanwhile do not shift it" },
  { name: 'status', in: 'query', schema: { type: 'string' }, description: `only checks in these states: ${CHECK_STATUSES.join(', ')}, several separated by commas (status=failing,blocked)` },
  { name: 'name', in: 'query', schema: { type: 'string' }, description: 'only checks whose name starts with this' },
];

/** This API's own OpenAPI 3.1 document (GET /api/v1/openapi.json). */
export function openApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'driftwatch', version, description: 'Synthetic monitoring for deployment verification.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'required on /probe and POST routes when a token is configured (/api/v1/gate/flagger also takes it as metadata.token)' } },
      schemas: {
        Error: { type: 'object', required: ['code', 'message'], properties: { error: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        Result: {
          type: 'object',
          required: ['name', 'type', 'ok', 'message', 'startedAt', 'durationMs', 'observations'],
          properties: {
            name: { type: 'string' },
            type: { type: 'string' },
            ok: { type: 'boolean' },
            reason: { type: 'string', enum: [...REASONS], description: 'absent when ok, and when blocked' },
            blocked: {
              type: 'object',
              required: ['by', 'roots'],
              description: 'present when the check was not run because a dependency (dependsOn) fails; ok is false then',
              properties: { by: { type: 'array', items: { type: 'string' }, description: 'the direct dependencies that stopped it' }, roots: { type: 'array', items: { type: 'string' }, description: 'the failing checks at the root of it' } },
            },
            message: { type: 'string', description: 'expected vs actual, e.g. "status 404, expected 401"' },
            startedAt: { type: 'string', format: 'date-time' },
            durationMs: { type: 'number' },
            observations: { type: 'object', additionalProperties: true, description: 'per type; an ingress result has observations.verdict' },
            steps: { type: 'array', items: { type: 'object' }, description: 'only with debug=true' },
          },
        },
        CheckSummary: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            type: { type: 'string' },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            dependsOn: { type: 'array', items: { type: 'string' } },
            source: { type: 'string' },
            every: { type: 'string' },
            timeout: { type: 'string' },
            nextRunAt: { type: 'string', format: 'date-time' },
            status: { ...status, description: 'blocked: not run because a dependency fails; pending: not run yet' },
            since: { type: 'string', format: 'date-time' },
            last: ref('Result'),
          },
        },
        RunSummary: {
          type: 'object',
          description: 'an earlier run in brief (observations are kept for the latest run only, in last)',
          properties: {
            ok: { type: 'boolean' },
            reason: { type: 'string' },
            blocked: { type: 'boolean', description: 'not run because a dependency failed (the message names it)' },
            message: { type: 'string' },
            startedAt: { type: 'string', format: 'date-time' },
            durationMs: { type: 'number' },
            verdict: { type: 'string', description: 'ingress checks' },
          },
        },
        CheckDetail: {
          allOf: [ref('CheckSummary'), { type: 'object', properties: { spec: { type: 'object', additionalProperties: true }, recent: { type: 'array', items: ref('RunSummary'), description: 'newest first, at most 20' } } }],
        },
        CheckList: {
          type: 'object',
          required: ['checks', 'total'],
          properties: {
            checks: { type: 'array', items: ref('CheckSummary'), maxItems: MAX_PAGE_SIZE, description: 'one page, in name order' },
            total: { type: 'integer', description: 'checks that match the filters, on all pages' },
            next: { type: 'string', description: 'pass as cursor= for the next page; absent on the last page' },
            reload: ref('Reload'),
          },
        },
        Reload: { type: 'object', properties: { ok: { type: 'boolean' }, checks: { type: 'integer' }, problems: { type: 'array', items: { type: 'string' } }, at: { type: 'string' } } },
        GateAnswer: gateAnswerSchema,
        Window: windowSchema,
      },
    },
    paths: {
      '/metrics': {
        get: {
          summary: 'Prometheus text exposition',
          parameters: [{ name: 'Accept-Encoding', in: 'header', schema: { type: 'string' }, description: 'with gzip (as Prometheus sends it) the answer is gzip-compressed, streamed as it is rendered' }],
          responses: { 200: { description: 'metrics', headers: { 'Content-Encoding': { description: 'gzip when Accept-Encoding allows it, else absent', schema: { type: 'string', enum: ['gzip'] } } }, content: { 'text/plain': {} } } },
        },
      },
      '/probe': {
        get: {
          summary: 'Run a named check now',
          security: secured,
          parameters: [
            { name: 'check', in: 'query', schema: { type: 'string' }, description: 'the check to run (or module)' },
            { name: 'module', in: 'query', schema: { type: 'string' }, description: 'blackbox_exporter style: the check as a template, http_2xx finds http-2xx; answers the text format' },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'prometheus'] }, description: 'default: text when Accept asks for it or for module=, else JSON' },
            { name: 'X-Prometheus-Scrape-Timeout-Seconds', in: 'header', schema: { type: 'number' }, description: 'the run ends 0.5 s before it (as blackbox_exporter does)' },
            { name: 'debug', in: 'query', schema: { type: 'boolean' } },
            { name: 'target', in: 'query', schema: { type: 'string' }, description: "only within the check's allowTargets" },
          ],
          responses: { 200: { description: 'the run (a failed check is still 200)', ...json(ref('Result')) }, 400: error, 401: error, 403: error, 404: error, 429: error },
        },
      },
      '/api/v1/checks': {
        get: {
          summary: 'The checks with their last results, a page at a time (follow next)',
          parameters: listParams,
          responses: { 200: { description: 'one page of checks', ...json(ref('CheckList')) }, 400: error },
        },
      },
      '/api/v1/checks/{name}': { get: { summary: 'One check, its spec and recent results', parameters: [nameParam], responses: { 200: { description: 'check', ...json(ref('CheckDetail')) }, 404: error } } },
      '/api/v1/checks/{name}/run': { post: { summary: 'Run a check now', security: secured, parameters: [nameParam], responses: { 200: { description: 'the run', ...json(ref('Result')) }, 401: error, 404: error, 429: error } } },
      '/api/v1/checks/{name}/badge.svg': {
        get: {
          summary: "A shields-style SVG badge of the check's health, 7 d uptime (from Prometheus with --prometheus-url) or last duration; cached 60 s. Without --public-badges it needs the token like /probe",
          security: [...secured, {}],
          parameters: [nameParam, { name: 'kind', in: 'query', schema: { type: 'string', enum: ['health', 'uptime', 'duration'], default: 'health' } }],
          responses: {
            200: { description: 'the badge', content: { 'image/svg+xml': {} } },
            400: { description: 'unknown kind, as an SVG badge', content: { 'image/svg+xml': {} } },
            401: error,
            404: { description: 'no such check, as an SVG badge ("check not found")', content: { 'image/svg+xml': {} } },
          },
        },
      },
      ...gatePaths,
      ...windowPaths,
      '/-/reload': { post: { summary: 'Reload check files (also SIGHUP)', security: secured, responses: { 200: { description: 'reloaded', ...json(ref('Reload')) }, 401: error, 422: { description: 'invalid files: old checks keep running', ...json(ref('Reload')) } } } },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'alive' } } } },
      '/readyz': { get: { summary: 'Readiness: checks loaded and scheduler running', responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } } } },
      '/api/v1/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/': {
        get: {
          summary: 'Status page (HTML, works without JavaScript): counts of every check, then a page of rows, failing first',
          parameters: [{ name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 }, description: `${PAGE_SIZE} rows a page; past the last page shows the last` }],
          responses: { 200: { description: 'HTML', content: { 'text/html': {} } }, 400: { description: 'not a page number (HTML)', content: { 'text/html': {} } } },
        },
      },
    },
  };
}
