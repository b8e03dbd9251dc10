import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpsPeer, type HttpsPeer } from './peers/https.js';
import { parseChecks, runYaml } from './support/checks.js';

/**
 * The smoke test's `curl https://hub/api/v2/openapi.json` as a check, against a real HTTPS
 * server on 127.0.0.2 (the ingress, current API) and 127.0.0.3 (the stale host, whose document
 * lacks the bootstrap paths), same hostname, certificates minted for this run.
 */
const CURRENT = {
  openapi: '3.0.3',
  info: { title: 'inter-hub', version: '2.4.0' },
  paths: {
    '/api/v2/hubs': { get: { responses: { 401: { description: 'auth' } } }, post: { responses: {} } },
    '/api/v2/hubs/{id}': { get: { responses: {} } },
    '/api/v2/widgets': { get: { responses: {} } },
    '/api/v2/bootstrap': { post: { responses: {} } },
    '/health': { get: { responses: {} } },
  },
};
const OLD = {
  openapi: '3.0.0',
  info: { title: 'inter-hub', version: '1.9.2' },
  paths: { '/api/v2/widgets': { post: { responses: {} } }, '/health': { get: { responses: {} } } },
};
const REQUIRED = ['/health', '/api/v2/hubs', 'GET /api/v2/hubs/{hubId}', 'GET /api/v2/widgets', '/api/v2/bootstrap'];

const YAML_DOC = `openapi: 3.1.0
info:
  title: inter-hub
  version: 2.4.0
servers:
  - url: https://hub.example.com/api/v2
paths:
  /hubs:
    get: { responses: {} }
  /widgets:
    get: { responses: {} }
`;
const SWAGGER = { swagger: '2.0', info: { title: 'inter-hub legacy', version: '1.0' }, basePath: '/api/v2', paths: { '/hubs': { get: { responses: {} } } } };
// Letters no hex digest or number holds, so a 6-character window can only match the canary itself.
const OPENAPI_CANARY = [...randomBytes(24)].map((b) => 'ghijklmnopqrstuvwxyz'[b % 20]).join('');
const BROKEN_JSON = '{\n  "openapi": "3.0.3",\n  "info": { "title": "inter-hub" }\n  "paths": {}\n}\n';
const BROKEN_YAML = 'openapi: 3.0.3\ninfo:\n  title: inter-hub\npaths: [\n  /hubs: {}\n';

let certs: Certificates;
let ingress: HttpsPeer;
let stale: HttpsPeer;

beforeAll(async () => {
  certs = await mintCertificates();
  const yaml = { 'content-type': 'application/yaml' };
  ingress = await startHttpsPeer({
    host: '127.0.0.2',
    tls: certs.leaf,
    routes: {
      '/api/v2/openapi.json': { body: CURRENT },
      '/api/v2/openapi.yaml': { body: YAML_DOC, headers: yaml },
      // text/plain: neither JSON nor YAML by its type, read by trying both.
      '/api/v2/openapi': { body: YAML_DOC },
      '/swagger.json': { body: SWAGGER },
      '/broken.json': { body: BROKEN_JSON, headers: { 'content-type': 'application/json' } },
      '/broken.yaml': { body: BROKEN_YAML, headers: yaml },
      '/page': { body: '<!doctype html>\n<html><body>inter-hub</body></html>\n', headers: { 'content-type': 'text/html; charset=utf-8' } },
      // A debug endpoint echoing the credential into a document that does not parse, where V8 quotes the text around the error.
      '/echo.json': (req) => ({ body: `{"token": ${String(req.headers.authorization)}}`, headers: { 'content-type': 'application/json' } }),
      '/echo.yaml': (req) => ({ body: `openapi: 3.0.3\ntoken: *${String(req.headers.authorization)}\n`, headers: yaml }),
    },
  });
  stale = await startHttpsPeer({ host: '127.0.0.3', port: ingress.port, tls: certs.leaf, routes: { '/api/v2/openapi.json': { body: OLD } } });
});

afterAll(async () => {
  await Promise.all([ingress.close(), stale.close(), certs.close()]);
});

function openapiCheck(path: string, extra: Record<string, unknown> = {}, peer = ingress): string {
  const check = { name: 'hub-openapi', type: 'openapi', url: peer.url(path, certs.hostname), resolve: peer.host, ca: certs.caPath, timeout: '5s', ...extra };
  return stringify({ checks: [check] });
}

describe('openapi check', () => {
  it('passes on the current document: paths, methods, title and version; reports facts, never the document', async () => {
    const run = await runYaml(openapiCheck('/api/v2/openapi.json', { expect: { paths: REQUIRED, title: 'inter-hub', version: { matches: '^2\\.' } } }));
    expect(run.result).toMatchObject({ ok: true, message: 'ok' });
    expect(run.result.observations).toMatchObject({
      via: '127.0.0.2',
      address: '127.0.0.2',
      status: 200,
      contentType: 'application/json',
      format: 'json',
      specification: 'openapi',
      openapiVersion: '3.0.3',
      title: 'inter-hub',
      version: '2.4.0',
      pathCount: 5,
      missing: [],
    });
    expect(JSON.stringify(run.result)).not.toContain('responses');
    expect(ingress.requests.at(-1)).toMatchObject({ servername: certs.hostname, headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' } });
    expect(run.samples).toContainEqual({ name: 'driftwatch_openapi_missing_paths', value: 0 });
    expect(run.samples).toContainEqual({ name: 'driftwatch_http_status_code', labels: { via: '127.0.0.2' }, value: 200 });
  });

  it("fails on the stale host's document, naming the missing bootstrap paths and methods", async () => {
    const run = await runYaml(openapiCheck('/api/v2/openapi.json', { expect: { paths: REQUIRED } }, stale));
    expect(run.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: 'missing 4 of 5 required paths: /api/v2/hubs, GET /api/v2/hubs/{hubId}, GET /api/v2/widgets, /api/v2/bootstrap',
      observations: { via: '127.0.0.3', openapiVersion: '3.0.0', version: '1.9.2', missing: ['/api/v2/hubs', 'GET /api/v2/hubs/{hubId}', 'GET /api/v2/widgets', '/api/v2/bootstrap'] },
    });
    expect(run.samples).toContainEqual({ name: 'driftwatch_openapi_missing_paths', value: 4 });
  });

  it('says every unmet expectation at once: paths, title, version', async () => {
    const run = await runYaml(openapiCheck('/api/v2/openapi.json', { expect: { paths: ['/api/v2/hubs', 'DELETE /api/v2/hubs'], title: 'hub', version: { matches: '^3\\.' } } }));
    expect(run.result).toMatchObject({
      reason: 'assertion',
      message: 'missing 1 of 2 required paths: DELETE /api/v2/hubs; info.title is "inter-hub", expected "hub"; info.version is "2.4.0", expected one matching /^3\\./',
    });
  });

  it.each([
    ['by its content type', '/api/v2/openapi.yaml', 'application/yaml'],
    ['without a content type that says so', '/api/v2/openapi', 'text/plain'],
  ])('reads YAML %s, with paths under the server URL path', async (_how, path, contentType) => {
    const run = await runYaml(openapiCheck(path, { expect: { paths: ['GET /api/v2/hubs', '/api/v2/widgets', 'POST /api/v2/widgets'] } }));
    expect(run.result).toMatchObject({
      ok: false,
      message: 'missing 1 of 3 required paths: POST /api/v2/widgets',
      observations: { contentType, format: 'yaml', openapiVersion: '3.1.0', title: 'inter-hub', version: '2.4.0', pathCount: 2 },
    });
  });

  it('reads and reports a Swagger 2.0 document; it fails the default OpenAPI 3 expectation', async () => {
    const strict = await runYaml(openapiCheck('/swagger.json', { expect: { paths: ['GET /api/v2/hubs'] } }));
    expect(strict.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: 'document is Swagger 2.0, expected OpenAPI 3.x',
      observations: { specification: 'swagger', openapiVersion: '2.0', title: 'inter-hub legacy', missing: [] },
    });
    const accepted = await runYaml(openapiCheck('/swagger.json', { expect: { openapi: 2, paths: ['GET /api/v2/hubs'] } }));
    expect(accepted.result).toMatchObject({ ok: true, observations: { specification: 'swagger', openapiVersion: '2.0' } });
  });

  it.each([
    ['JSON', '/broken.json', /^document \(application\/json\) is not valid JSON: .+ at line 4, column 3$/],
    ['YAML', '/broken.yaml', /^document \(application\/yaml\) is not valid YAML: .+ at line \d+, column \d+$/],
  ])('fails a malformed %s document with a parse error that names the position', async (_kind, path, message) => {
    const run = await runYaml(openapiCheck(path, { expect: { paths: ['/api/v2/hubs'] } }));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', observations: { status: 200 } });
    expect(run.result.message).toMatch(message);
    expect(run.result.observations).not.toHaveProperty('missing');
    expect(run.samples.map((s) => s.name)).not.toContain('driftwatch_openapi_missing_paths');
  });

  it.each(['/echo.json', '/echo.yaml'])('quotes no part of the body in the parse error of %s, so an echoed secret cannot leak cut in half', async (path) => {
    process.env.DW_TEST_OPENAPI_CANARY = OPENAPI_CANARY;
    try {
      const run = await runYaml(openapiCheck(path, { headers: { Authorization: { env: 'DW_TEST_OPENAPI_CANARY' } } }));
      expect(ingress.requests.at(-1)?.headers.authorization).toBe(OPENAPI_CANARY);
      expect(run.result).toMatchObject({ ok: false, reason: 'assertion' });
      expect(run.result.message).toMatch(/^document \(application\/(json|yaml)\) is not valid (JSON|YAML): /);
      // Any 6 characters of the canary in a row would be a leak no whole-value scrub catches.
      for (let i = 0; i + 6 <= OPENAPI_CANARY.length; i++) expect(JSON.stringify(run.result)).not.toContain(OPENAPI_CANARY.slice(i, i + 6));
    } finally {
      Reflect.deleteProperty(process.env, 'DW_TEST_OPENAPI_CANARY');
    }
  });

  it('fails an HTML page (a stale host answering with its landing page) as not an OpenAPI document', async () => {
    const run = await runYaml(openapiCheck('/page'));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'document (text/html) is not an OpenAPI document: it is a string, not an object' });
  });

  it('fails a non-2xx answer with reason status and no missing-paths series', async () => {
    const run = await runYaml(openapiCheck('/api/v2/nothing.json', { expect: { paths: ['/api/v2/hubs'] } }));
    expect(run.result).toMatchObject({ ok: false, reason: 'status', message: 'status 404, expected 2xx', observations: { status: 404 } });
    expect(run.samples).toEqual([
      { name: 'driftwatch_http_status_code', labels: { via: '127.0.0.2' }, value: 404 },
      ...['dns', 'connect', 'tls', 'processing', 'transfer'].map((phase) => ({ name: 'driftwatch_http_phase_duration_seconds', labels: { via: '127.0.0.2', phase }, value: expect.any(Number) as number })),
    ]);
  });

  it('fails a document larger than maxBodyBytes as an assertion', async () => {
    const run = await runYaml(openapiCheck('/api/v2/openapi.json', { maxBodyBytes: 64 }));
    expect(run.result).toMatchObject({ ok: false, reason: 'assertion', message: 'body exceeds maxBodyBytes 64' });
  });
});

describe('openapi check file', () => {
  it('defaults: 5 MiB body cap, any OpenAPI 3.x, no required paths', () => {
    const [loaded] = parseChecks(stringify({ checks: [{ name: 'hub', type: 'openapi', url: 'https://hub.example.com/api/v2/openapi.json' }] }));
    expect(loaded?.spec).toMatchObject({ maxBodyBytes: 5 * 1024 * 1024, insecureSkipVerify: false, expect: { paths: [], openapi: '3' } });
  });

  it.each([
    ['expect: { paths: [api/v2/hubs] }', 'test.yaml:1:89: checks[0].expect.paths[0]: expected a path (/api/v2/hubs) or a method and a path (GET /api/v2/hubs) (got "api/v2/hubs")'],
    ['expect: { paths: ["FETCH /api/v2/hubs"] }', 'test.yaml:1:89: checks[0].expect.paths[0]: expected a path (/api/v2/hubs) or a method and a path (GET /api/v2/hubs) (got "FETCH /api/v2/hubs")'],
    ['expect: { title: { matches: "(" } }', 'test.yaml:1:99: checks[0].expect.title.matches: invalid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ): `(`'],
    ['expect: { openapi: "three" }', 'test.yaml:1:90: checks[0].expect.openapi: expected a version such as 3, 3.1 or 2 (Swagger 2.0) (got "three")'],
    ['resolve: hub.example.com', 'test.yaml:1:80: checks[0].resolve: expected an IPv4 or IPv6 address'],
  ])('rejects %s', (fragment, problem) => {
    let error: unknown;
    try {
      parseChecks(`checks: [{ name: hub, type: openapi, url: "https://hub.example.com/", ${fragment} }]`);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([problem]);
  });
});
