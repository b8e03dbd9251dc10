import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_FRAGMENT } from '../src/results/secret-forms.js';
import { scrub, Secret } from '../src/config/secret.js';
import { formatProblem, type Problem } from '../src/config/problem.js';
import { checkTypes } from '../src/checks/registry.js';
import { parseCheckFile } from '../src/config/load.js';
import { memoryLogger } from './support/checks.js';
import { collectOutputs, startDaemonApi, type DaemonApi } from './support/daemon-api.js';

// Canary values: if any of these strings shows up anywhere a person or Prometheus can read, a secret leaked.
const hex = randomBytes(6).toString('hex');
const ENV_CANARY = `canary-env-${hex}`;
const FILE_CANARY = `canary-file-${hex}`;
// "Bearer X": X holds characters that URL encodings change, so each encoded form differs from it.
const BEARER_CANARY = `canary-bearer-${hex}+/=~ !`;
const BASIC_USER = 'probe-user';
const BASIC_PASSWORD = `canary-pw-${hex}`;
const COOKIE_CANARY = `canary-cookie-${hex}`;
const INLINE_CANARY = `canary-inline-${hex}`;

const ENV = {
  DRIFTWATCH_TEST_CANARY: ENV_CANARY,
  DRIFTWATCH_TEST_BEARER: `Bearer ${BEARER_CANARY}`,
  DRIFTWATCH_TEST_BASIC: `Basic ${Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString('base64')}`,
  DRIFTWATCH_TEST_COOKIE: `theme=dark; session=${COOKIE_CANARY}`,
};

/** Every form of the canaries that must never be shown: raw, the parts of Basic, and URL-encoded as a redirect would carry them. */
function leakedForms(): string[] {
  const raw = [ENV_CANARY, FILE_CANARY, BEARER_CANARY, BASIC_PASSWORD, `${BASIC_USER}:${BASIC_PASSWORD}`, ENV.DRIFTWATCH_TEST_BASIC.slice(6), COOKIE_CANARY, INLINE_CANARY];
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
  return raw.flatMap((value) => {
    const form = new URLSearchParams([['', value]]).toString().slice(1);
    return [value, encodeURIComponent(value), lower(encodeURIComponent(value)), form, lower(form), encodeURI(value)];
  });
}

/**
 * A target that echoes what it is sent: whole values, the credential after the scheme word, the
 * decoded Basic pair and password, the cookie value, and (redirects) URL-encoded in a Location.
 */
const last: string[] = [];

function echo(req: IncomingMessage): { status: number; headers: Record<string, string>; body: string } {
  const authorization = req.headers.authorization ?? '';
  if (authorization !== '') last.splice(0, last.length, authorization, String(req.headers['x-api-key'] ?? ''));
  const credential = authorization.replace(/^\S+\s+/, '');
  const basic = authorization.startsWith('Basic ') ? Buffer.from(credential, 'base64').toString('utf8') : '';
  const cookie = (req.headers.cookie ?? '').replace(/^.*session=/, '');
  const path = (req.url ?? '/').split('?')[0];
  switch (path) {
    case '/parts':
      return { status: 200, headers: { 'x-echo': `${credential} | ${basic} | ${basic.split(':')[1] ?? ''} | ${cookie}` }, body: credential };
    case '/encoded':
      return { status: 302, headers: { location: `/landing?t=${encodeURIComponent(credential)}&p=${encodeURIComponent(basic)}` }, body: '' };
    case '/lower':
      return { status: 302, headers: { location: `/landing?t=${encodeURIComponent(credential).toLowerCase()}` }, body: '' };
    case '/form':
      return { status: 302, headers: { location: `/landing?${new URLSearchParams({ t: credential, p: basic }).toString()}` }, body: '' };
    case '/landing':
      return { status: 200, headers: {}, body: 'landed' };
    case '/last':
      // What the server was sent before, by whichever check: told to the check asking now.
      return { status: 200, headers: { 'x-echo': last.join(' | ') }, body: '' };
    default: {
      const echoed = `${authorization} ${String(req.headers['x-api-key'] ?? '')}`;
      return { status: path === '/fail' ? 500 : 200, headers: { 'x-echo': echoed }, body: `you sent ${echoed}` };
    }
  }
}

describe('secrets never leave the process', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let api: DaemonApi;
  let app: FastifyInstance;
  const logs = memoryLogger();
  const seen: IncomingMessage[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      const { status, headers, body } = echo(req);
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;

    dir = await mkdtemp(join(tmpdir(), 'driftwatch-secrets-'));
    const secretFile = join(dir, 'api-key');
    await writeFile(secretFile, `${FILE_CANARY}\n`);
    Object.assign(process.env, ENV);
    const headers = `headers: { Authorization: { env: DRIFTWATCH_TEST_CANARY }, X-Api-Key: { file: ${secretFile} }, X-Trace: ${INLINE_CANARY} }`;
    const url = (path: string) => `"http://127.0.0.1:${port}${path}"`;
    const failing = 'expect: { bodyContains: nothing-like-this, headers: { x-echo: nope } }';
    api = await startDaemonApi(
      `defaults: { interval: 1h, timeout: 3s }
checks:
  - { name: echo-ok, type: http, url: ${url('/ok')}, ${headers}, ${failing} }
  - { name: echo-fail, type: http, url: ${url('/fail')}, ${headers} }
  - { name: echo-bearer, type: http, url: ${url('/parts')}, headers: { Authorization: { env: DRIFTWATCH_TEST_BEARER }, Cookie: { env: DRIFTWATCH_TEST_COOKIE } }, ${failing} }
  - { name: echo-basic, type: http, url: ${url('/parts')}, headers: { Authorization: { env: DRIFTWATCH_TEST_BASIC } }, ${failing} }
  - { name: echo-encoded, type: http, url: ${url('/encoded')}, followRedirects: true, headers: { Authorization: { env: DRIFTWATCH_TEST_BASIC } }, ${failing} }
  - { name: echo-encoded-bearer, type: http, url: ${url('/encoded')}, followRedirects: true, headers: { Authorization: { env: DRIFTWATCH_TEST_BEARER } }, ${failing} }
  - { name: echo-lower, type: http, url: ${url('/lower')}, followRedirects: true, headers: { Authorization: { env: DRIFTWATCH_TEST_BEARER } }, ${failing} }
  - { name: echo-form, type: http, url: ${url('/form')}, followRedirects: true, headers: { Authorization: { env: DRIFTWATCH_TEST_BASIC } }, ${failing} }
  - { name: echo-form-bearer, type: http, url: ${url('/form')}, followRedirects: true, headers: { Authorization: { env: DRIFTWATCH_TEST_BEARER } }, ${failing} }
  - { name: echo-other, type: http, url: ${url('/last')}, ${failing} }
`,
      logs.log,
    );
    app = api.app;
  });

  afterAll(async () => {
    for (const name of Object.keys(ENV)) Reflect.deleteProperty(process.env, name);
    await api.close();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    await rm(dir, { recursive: true, force: true });
  });

  const NAMES = ['echo-ok', 'echo-fail', 'echo-bearer', 'echo-basic', 'echo-encoded', 'echo-encoded-bearer', 'echo-lower', 'echo-form', 'echo-form-bearer'];

  it('the canaries really were sent and echoed in every form (the test can fail)', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ok`, { headers: { authorization: ENV_CANARY } });
    expect(await res.text()).toContain(ENV_CANARY);
    const parts = await fetch(`http://127.0.0.1:${port}/parts`, { headers: { authorization: ENV.DRIFTWATCH_TEST_BASIC } });
    expect(parts.headers.get('x-echo')).toContain(`${BASIC_USER}:${BASIC_PASSWORD} | ${BASIC_PASSWORD}`);
    const encoded = await fetch(`http://127.0.0.1:${port}/encoded`, { headers: { authorization: ENV.DRIFTWATCH_TEST_BEARER }, redirect: 'manual' });
    expect(encoded.headers.get('location')).toContain(encodeURIComponent(BEARER_CANARY));
  });

  it('appear in no result, debug record, API answer, page, metrics or log line, in no form', async () => {
    const { all, passed } = await collectOutputs(app, NAMES, logs.lines);
    expect(passed).toEqual([]);
    for (const form of leakedForms()) expect(all, `leaked ${form}`).not.toContain(form);
  });

  it("scrubs another check's credential that a target echoes to a check that sent none", async () => {
    const message = async (name: string) => (await app.inject(`/probe?check=${name}`)).json<{ message: string }>().message;
    await message('echo-ok');
    expect(await message('echo-other')).toContain('header x-echo is "[secret] | [secret]"');
  });

  it('scrubs the parts a target echoes, so the messages say [secret] where they were', async () => {
    const message = async (name: string) => (await app.inject(`/probe?check=${name}`)).json<{ message: string }>().message;
    expect(await message('echo-ok')).toContain('header x-echo is "[secret] [secret]"');
    expect(await message('echo-bearer')).toContain('header x-echo is "[secret] |  |  | [secret]"');
    expect(await message('echo-basic')).toContain('header x-echo is "[secret] | [secret] | [secret] |"');
    for (const name of ['echo-encoded', 'echo-lower', 'echo-form', 'echo-encoded-bearer', 'echo-form-bearer']) {
      const result = (await app.inject(`/probe?check=${name}`)).json<{ observations: { finalUrl?: string; redirects: number } }>();
      expect(result.observations.redirects).toBe(1);
      expect(result.observations.finalUrl).toMatch(/\/landing\?t=\[secret\]/);
    }
  });

  it('shows header names with secret references as [secret] and inline values as [hidden], in the API and on the page', async () => {
    const spec = (await app.inject('/api/v1/checks/echo-ok')).json<{ spec: { headers: Record<string, string> } }>().spec;
    expect(spec.headers).toEqual({ Authorization: '[secret]', 'X-Api-Key': '[secret]', 'X-Trace': '[hidden]' });
    const page = (await app.inject('/checks/echo-ok')).body;
    expect(page).toMatch(/<dt>X-Trace<\/dt><dd><span class="secret"[^>]*>\[hidden\]<\/span>/);
    expect(page).not.toContain(INLINE_CANARY);
  });
});

describe('scrubbed forms of a secret', () => {
  const revealed = async (value: string): Promise<Secret> => {
    process.env.DRIFTWATCH_TEST_FORMS = value;
    const secret = new Secret({ env: 'DRIFTWATCH_TEST_FORMS' });
    await secret.reveal();
    Reflect.deleteProperty(process.env, 'DRIFTWATCH_TEST_FORMS');
    return secret;
  };

  it(`does not scrub parts shorter than ${MIN_FRAGMENT} characters, but always the whole value`, async () => {
    const short = await revealed(`Basic ${Buffer.from('ab:cd').toString('base64')}`);
    expect(scrub({ m: 'cd and ab:cd stay readable' }, [short])).toEqual({ m: 'cd and ab:cd stay readable' });
    const long = await revealed(`Basic ${Buffer.from('u:pw1234').toString('base64')}`);
    expect(scrub({ m: 'pw1234 and u:pw1234' }, [long])).toEqual({ m: '[secret] and [secret]' });
    const tiny = await revealed('x1');
    expect(scrub(['ax1b'], [tiny])).toEqual(['a[secret]b']);
  });
});

describe('credential headers are never written inline', () => {
  function problemsOf(type: string, headers: string): string[] {
    const target = type === 'ingress' ? 'url: "https://hub.example.com/", ingress: [127.0.0.2]' : 'url: "https://hub.example.com/"';
    const problems: Problem[] = [];
    parseCheckFile('t.yaml', `checks:\n  - { name: hub, type: ${type}, ${target}, headers: { ${headers} } }\n`, problems, checkTypes);
    return problems.map(formatProblem);
  }

  it.each(['Authorization', 'Proxy-Authorization', 'Cookie', 'X-Api-Key', 'X-API-KEY', 'apikey', 'X-Auth-Token', 'Private-Token', 'X-Session-Id', 'X-Client-Secret', 'X-Password', 'Ocp-Apim-Subscription-Key'])(
    'refuses an inline %s, pointing at the value, without printing it',
    (name) => {
      const problems = problemsOf('http', `${name}: "Bearer ${INLINE_CANARY}"`);
      const col = 'checks:\n  - { name: hub, type: http, url: "https://hub.example.com/", headers: { '.length - 'checks:\n'.length + name.length + 3;
      expect(problems).toEqual([`t.yaml:2:${col}: checks[0].headers.${name}: ${name} carries a credential: write it as a secret reference, { env: NAME } or { file: /path }, never inline`]);
      expect(problems.join('\n')).not.toContain(INLINE_CANARY);
    },
  );

  it.each(['ingress', 'openapi'])('refuses it in the %s check too', (type) => {
    expect(problemsOf(type, 'Authorization: "Bearer x"')).toEqual([expect.stringContaining('checks[0].headers.Authorization: Authorization carries a credential')]);
  });

  it('accepts inline values for other headers and secret references for credentials', () => {
    expect(problemsOf('http', 'Accept: application/json, User-Agent: driftwatch, X-Request-Id: probe-1, Authorization: { env: HUB_TOKEN }, Cookie: { file: /run/cookie }')).toEqual([]);
  });
});
