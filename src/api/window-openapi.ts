import { z } from 'zod';
import { windowBody } from './window-route.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = { description: 'error', ...json(ref('Error')) };
const strings = { type: 'array', items: { type: 'string' } };

/** A deploy window (src/state/windows.ts DeployWindow). */
export const windowSchema = {
  type: 'object',
  required: ['id', 'kind', 'openedBy', 'checks', 'openedAt', 'until', 'pending'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['deploy'] },
    release: { type: 'string' },
    openedBy: { type: 'string', enum: ['api', 'gate'] },
    checks: strings,
    openedAt: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    pending: { ...strings, description: 'selected checks with no pass since the window opened (or failing again since)' },
    closedAt: { type: 'string', format: 'date-time' },
    outcome: { type: 'string', enum: ['converged', 'unconverged', 'closed'], description: 'absent while open' },
  },
};

const { $schema: _dialect, ...body } = z.toJSONSchema(windowBody, { io: 'input' });
const id = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

/** The paths of the window routes, for openapi-document.ts. */
export const windowPaths = {
  '/api/v1/windows': {
    post: {
      summary: 'Open a deploy window: the selected checks are converging, not failing, until all pass or until',
      security: [{ bearer: [] }],
      requestBody: { required: true, ...json(body) },
      responses: {
        201: { description: 'the window, open', ...json(ref('Window')) },
        400: { description: 'bad body, until in the past or more than 24h ahead, a selection of no check', ...json(ref('Error')) },
        401: error,
        404: { description: 'a check named in checks does not exist', ...json(ref('Error')) },
        429: { description: 'too many windows open', ...json(ref('Error')) },
      },
    },
    get: {
      summary: 'The open deploy windows, and the last closed ones with their outcome',
      responses: { 200: { description: 'windows', ...json({ type: 'object', properties: { open: { type: 'array', items: ref('Window') }, closed: { type: 'array', items: ref('Window') } } }) } },
    },
  },
  '/api/v1/windows/{id}': {
    get: { summary: 'One window, open or recently closed', parameters: id, responses: { 200: { description: 'the window', ...json(ref('Window')) }, 404: error } },
    delete: {
      summary: 'Close an open window now (outcome closed: no alert)',
      security: [{ bearer: [] }],
      parameters: id,
      responses: { 200: { description: 'the window, closed', ...json(ref('Window')) }, 401: error, 404: error },
    },
  },
};
