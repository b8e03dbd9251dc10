import { z } from 'zod';
import { FLAGGER_RED_STATUS, flaggerPayload } from './gate-flagger-route.js';
import { gateBody } from './gate-route.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = { description: 'error', ...json(ref('Error')) };

/** A request body's JSON Schema from the zod schema that parses it, without the $schema key OpenAPI does not take. */
function bodySchema(schema: z.ZodType): object {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' });
  return rest;
}

const brokenLink = {
  type: 'object',
  required: ['name', 'type', 'reason', 'message', 'blocking'],
  properties: { name: { type: 'string' }, type: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' }, blocking: { type: 'array', items: { type: 'string' } } },
};

/** The gate's answer (src/gate/gate-answer.ts). */
export const gateAnswerSchema = {
  type: 'object',
  required: ['passed', 'verdict', 'summary', 'brokenLinks', 'rounds', 'elapsedMs', 'checks'],
  properties: {
    passed: { type: 'boolean', description: 'true only when every selected check passes: the field a successCondition reads' },
    verdict: { type: 'string', enum: ['passed', 'failed', 'blocked'] },
    summary: { type: 'string', description: 'the sentence driftwatch run prints, naming the first broken links' },
    firstBrokenLink: { ...brokenLink, description: 'the first check in dependency order that fails on its own; absent when none does' },
    brokenLinks: { type: 'array', items: brokenLink },
    release: { type: 'string' },
    rounds: { type: 'integer' },
    elapsedMs: { type: 'integer' },
    checks: { type: 'array', items: { allOf: [ref('Result'), { type: 'object', properties: { attempts: { type: 'integer' }, passedAfterMs: { type: 'integer' } } }] } },
  },
};

/** The paths of the gate routes, for openapi-document.ts. */
export const gatePaths = {
  '/api/v1/gate': {
    post: {
      summary: 'Run the post-deploy gate now (driftwatch run --wait over the daemon): for Argo Rollouts web metrics and CI',
      security: [{ bearer: [] }],
      requestBody: { required: false, ...json(bodySchema(gateBody)) },
      responses: {
        200: { description: 'the gate decided, green or red: read passed (a red gate is not an HTTP error: Argo reads non-2xx as a measurement error)', ...json(ref('GateAnswer')) },
        400: error,
        401: error,
        404: { description: 'a check named in checks does not exist', ...json(ref('Error')) },
        413: { description: 'body over 64 KiB' },
        429: error,
      },
    },
  },
  '/api/v1/gate/flagger': {
    post: {
      summary: "The gate as a Flagger webhook: Flagger's payload, the gate's settings in metadata (checks, labels, release, wait, every, timeout, token)",
      requestBody: { required: true, ...json(bodySchema(flaggerPayload)) },
      responses: {
        200: { description: 'green: Flagger goes on', ...json(ref('GateAnswer')) },
        [FLAGGER_RED_STATUS]: { description: 'red: Flagger holds or counts a failure (any status above 202 does)', ...json(ref('GateAnswer')) },
        400: error,
        401: { description: 'no token: metadata.token or Authorization: Bearer', ...json(ref('Error')) },
        404: error,
        413: { description: 'body over 64 KiB' },
        429: error,
      },
    },
  },
};
