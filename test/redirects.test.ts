import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import type { Result } from '../src/results/result.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { parseChecks, runYaml } from './support/checks.js';
import { startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * Redirects and what follows them: a redirecting host on 127.0.0.1 that records every header it
 * receives, and another origin (127.0.0.3) it sends clients to. Configured headers (secret
 * references above all) stay with the origin; a /probe retarget stays inside allowTargets on
 * every hop.
 */
const TOKEN_ENV = 'DW_TEST_REDIRECT_TOKEN';
const token = `canary-redirect-${randomBytes(6).toString('hex')}`;
const key = `canary-redirect-key-${randomBytes(6).toString('hex')}`;

let origin: HttpPeer;
let other: HttpPeer;
let dir: string;
let keyFile: string;
const peers = new PeerSet();

beforeAll(async () => {
  origin = await peers.start(startHttpPeer({ host: '127.0.0.1' }));
  other = await peers.start(startHttpPeer({ host: '127.0.0.3', routes: { '/landing': { body: 'landed' } } }));
  Object.assign(origin.routes, {
    '/away': { status: 307, headers: { location: other.url('/landing') } },
    '/same': { status: 302, headers: { location: '/here' } },
    '/here': { body: 'here' },
    '/public/a': { status: 302, headers: { location: '/public/b' } },
    '/public/b': { body: 'public b' },
    '/public/go': { status: 302, headers: { location: origin.url('/private') } },
    '/public/dots': { status: 302, headers: { location: '/public/../private' } },
    '/private': { body: 'private' },
  });
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-redirects-'));
  keyFile = join(dir, 'key');
  await writeFile(keyFile, `${key}\n`);
  process.env[TOKEN_ENV] = token;
});

afterAll(async () => {
  Reflect.deleteProperty(process.env, TOKEN_ENV);
  await peers.closeAll();
  await rm(dir, { recursive: true, force: true });
});

function redirectCheck(path: string, extra: Record<string, unknown> = {}): string {
  const headers = { Authorization: { env: TOKEN_ENV }, 'X-Api-Key': { file: keyFile }, 'X-Trace': 'inline-trace', 'X-Keep': 'kept' };
  return stringify({ checks: [{ name: 'hop', type: 'http', url: origin.url(path), followRedirects: true, headers, ...extra }] });
}

describe('headers on a redirect to another origin', () => {
  it('drops every configured header, secret references and inline ones, by default', async () => {
    const { result } = await runYaml(redirectCheck('/away', { expect: { bodyContains: 'landed' } }));
    expect(result).toMatchObject({ ok: true, observations: { redirects: 1, finalUrl: other.url('/landing') } });
    expect(origin.requests.at(-1)?.headers).toMatchObject({ authorization: token, 'x-api-key': key, 'x-trace': 'inline-trace', 'x-keep': 'kept' });
    const received = other.requests.at(-1)?.headers ?? {};
    for (const name of ['authorization', 'x-api-key', 'x-trace', 'x-keep']) expect(received).not.toHaveProperty(name);
    expect(received.host).toBe(`127.0.0.3:${other.port}`);
  });

  it('sends the inline headers named in redirectHeaders along, and still no secret', async () => {
    const { result } = await runYaml(redirectCheck('/away', { redirectHeaders: ['x-keep'] }));
    expect(result.ok).toBe(true);
    const received = other.requests.at(-1)?.headers ?? {};
    expect(received['x-keep']).toBe('kept');
    for (const name of ['authorization', 'x-api-key', 'x-trace']) expect(received).not.toHaveProperty(name);
    expect(JSON.stringify(other.requests)).not.toContain(token);
    expect(JSON.stringify(other.requests)).not.toContain(key);
  });

  it('keeps every header on a redirect within the origin', async () => {
    const { result } = await runYaml(redirectCheck('/same'));
    expect(result).toMatchObject({ ok: true, observations: { redirects: 1 } });
    expect(origin.requests.at(-1)).toMatchObject({ path: '/here', headers: { authorization: token, 'x-api-key': key, 'x-trace': 'inline-trace', 'x-keep': 'kept' } });
  });

  it.each([
    ['a secret reference', 'Authorization', 'Authorization is a secret reference: secrets never follow a redirect to another origin'],
    ['a header the check does not send', 'X-Nope', 'no header X-Nope in headers'],
  ])('refuses %s in redirectHeaders', (_kind, name, message) => {
    const yaml = `checks:\n  - name: hop\n    type: http\n    url: "http://127.0.0.1/"\n    headers: { Authorization: { env: X } }\n    redirectHeaders: [${name}]\n`;
    let error: unknown;
    try {
      parseChecks(yaml);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([`test.yaml:6:23: checks[0].redirectHeaders[0]: ${message}`]);
  });
});

describe('a /probe retarget follows redirects only inside allowTargets', () => {
  let api: DaemonApi;

  beforeAll(async () => {
    const check = { name: 'public', type: 'http', url: origin.url('/public/a'), followRedirects: true, interval: '1h', allowTargets: [origin.url('/public/*')] };
    const own = { name: 'own', type: 'http', url: origin.url('/public/go'), followRedirects: true, interval: '1h' };
    api = await startDaemonApi(stringify({ checks: [check, own] }));
  });

  afterAll(async () => {
    await api.close();
  });

  const probe = async (query: string) => (await api.app.inject(`/probe?${query}`)).json<Result>();
  const privateRequests = () => origin.requests.filter((r) => r.path === '/private').length;

  it('follows a hop that stays inside the patterns', async () => {
    expect(await probe(`check=public&target=${encodeURIComponent(origin.url('/public/a'))}`)).toMatchObject({ ok: true, observations: { redirects: 1, finalUrl: origin.url('/public/b') } });
  });

  it.each([
    ['an allowed path redirecting to a refused URL', '/public/go'],
    ['a redirect whose dot segments lead out of the pattern', '/public/dots'],
  ])('fails with reason config, naming the refused hop, on %s; the hop is never requested', async (_kind, path) => {
    const before = privateRequests();
    const result = await probe(`check=public&target=${encodeURIComponent(origin.url(path))}`);
    expect(result).toMatchObject({ ok: false, reason: 'config', observations: { status: 302 } });
    expect(result.message).toBe(`redirect to ${origin.url('/private')} refused: not allowed by check public (allowTargets: ${origin.url('/public/*')}) (DRIFTWATCH_REDIRECT_REFUSED)`);
    expect(privateRequests()).toBe(before);
  });

  it("leaves the check's own runs alone: its file, not a caller, chose where they go", async () => {
    expect(await probe('check=own')).toMatchObject({ ok: true, observations: { redirects: 1, finalUrl: origin.url('/private') } });
  });
});
