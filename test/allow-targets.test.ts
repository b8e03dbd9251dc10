import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { startDaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';

/**
 * /probe?target= against allowTargets: http://H/public/* must never reach anything outside
 * /public/ on H, whatever the caller writes. A real daemon and a loopback host recording every
 * request path, so a bypass shows as a request where none may go.
 */
let host: HttpPeer;
let app: FastifyInstance;
const peers = new PeerSet();

beforeAll(async () => {
  host = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/public/x': { body: 'public' }, '/private': { body: 'private' }, '/': { body: 'root' } } }));
  const daemon = await peers.start(startDaemonApi(stringify({ checks: [{ name: 'public', type: 'http', url: host.url('/public/x'), interval: '1h', allowTargets: [host.url('/public/*')] }] })));
  app = daemon.app;
});

afterAll(async () => {
  await peers.closeAll();
});

const probe = (target: string) => app.inject(`/probe?check=public&target=${encodeURIComponent(target)}`);
const base = () => `http://127.0.0.1:${host.port}`;

describe('allowTargets with a URL pattern', () => {
  it('runs a target inside the pattern (the test can fail)', async () => {
    const res = await probe(`${base()}/public/x`);
    expect(res.json()).toMatchObject({ ok: true, observations: { url: `${base()}/public/x` } });
  });

  it('matches the URL as the request uses it: scheme and host in any case, the default port, tabs and newlines dropped', async () => {
    for (const target of [`HTTP://127.0.0.1:${host.port}/public/x`, `${base()}/pub\tlic/x`, ` ${base()}/public/x`]) {
      expect((await probe(target)).json(), target).toMatchObject({ ok: true, observations: { url: `${base()}/public/x` } });
    }
  });

  it.each([
    ['..', '/public/..'],
    ['.. then a path', '/public/../private'],
    ['.', '/public/./x'],
    ['a trailing .. that would stay inside', '/public/x/..'],
    ['%2e%2e', '/public/%2e%2e'],
    ['%2E%2e then a path', '/public/%2E%2e/private'],
    ['.%2e', '/public/.%2e/private'],
    ['%2e.', '/public/%2e./private'],
    ['backslashes', '/public\\..\\private'],
    ['a tab inside ..', '/public/.\t./private'],
  ])('refuses dot segments: %s', async (_kind, path) => {
    const before = host.requests.length;
    const res = await probe(`${base()}${path}`);
    expect(res.statusCode).toBe(403);
    expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'DRIFTWATCH_TARGET_NOT_ALLOWED', message: expect.stringContaining('dot segments') as string });
    expect(host.requests.length).toBe(before);
  });

  it.each([
    ['an encoded slash', '/public/%2e%2e%2fprivate'],
    ['a query', '/public/x?/../private'],
    ['a fragment', '/public/x#/../private'],
    ['another host in the userinfo place', '@127.0.0.2/public/x'],
    ['another port', ':1/public/x'],
    ['a longer path', '/public/x/y'],
  ])('refuses what the pattern does not cover: %s', async (_kind, suffix) => {
    const before = host.requests.length;
    const res = await probe(`${base()}${suffix}`);
    expect(res.statusCode).toBe(403);
    expect(res.json<{ code: string }>().code).toBe('DRIFTWATCH_TARGET_NOT_ALLOWED');
    expect(host.requests.length).toBe(before);
  });

  it('refuses credentials in the target without echoing them', async () => {
    const res = await probe(`http://probe:canary-target-pw@127.0.0.1:${host.port}/public/x`);
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('canary-target-pw');
  });
});
