import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { closestPattern, matchesPattern } from '../src/runner/target-patterns.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';
import { startTcpPeer } from './support/tcp-peer.js';

/**
 * The allowTargets forms people write first (issue 28 section 3): host globs, host:port and URL
 * prefixes, and the 403 naming the pattern that came closest. Before, `*` stopping at `:` and `/`
 * refused every one of these.
 */
describe('allowTargets forms', () => {
  it.each([
    ['127.0.0.*', '127.0.0.5:22'],
    ['127.0.0.*', 'http://127.0.0.5:8080/x'],
    ['*.example.com', 'hub.example.com:443'],
    ['10.0.0.3:*', 'http://10.0.0.3:8080/health'],
    ['10.0.0.3:*', 'http://10.0.0.3/'],
    ['10.0.0.3:443', 'https://10.0.0.3/'],
    ['http://10.0.0.3:*', 'http://10.0.0.3:8080/any/path?q=1'],
    ['http://10.0.0.3:*', 'http://10.0.0.3/'],
    ['https://*.example.com', 'https://hub.example.com/api/v2/hubs'],
    ['[::1]:*', '[::1]:53'],
    ['127.0.0.1:*', '127.0.0.1:5432'],
  ])('%s allows %s', (pattern, target) => {
    expect(matchesPattern(pattern, target)).toBe(true);
  });

  it.each([
    ['127.0.0.*', '127.0.1.5:22'],
    ['127.0.0.*', 'http://evil.test/?127.0.0.1'],
    ['*.example.com', 'example.com.evil.test:443'],
    ['10.0.0.3:*', 'http://10.0.0.4:8080/'],
    ['10.0.0.3:443', 'http://10.0.0.3/'],
    ['http://10.0.0.3:*', 'https://10.0.0.3/'],
    ['http://10.0.0.3:*', 'http://10.0.0.30/'],
    ['https://*.example.com', 'https://example.com.evil.test/'],
    // A URL pattern with a path stays a glob: * never crosses /.
    ['https://h.example/public/*', 'https://h.example/public/x/y'],
    ['127.0.0.1:*', '127.0.0.2:5432'],
  ])('%s refuses %s', (pattern, target) => {
    expect(matchesPattern(pattern, target)).toBe(false);
  });

  it('names the closest pattern', () => {
    expect(closestPattern(['https://*.example.com/health', '10.0.0.*', 'http://10.0.0.3:*'], 'http://10.0.0.4:8080/')).toBe('http://10.0.0.3:*');
    expect(closestPattern(['db.example:5432', 'cache.example:6379'], 'cache.example:6380')).toBe('cache.example:6379');
    expect(closestPattern([], 'x')).toBeUndefined();
  });
});

describe('allowTargets forms through a real daemon', () => {
  const peers = new PeerSet();
  let http: HttpPeer;
  let tcp: Awaited<ReturnType<typeof startTcpPeer>>;
  let daemon: DaemonApi;

  beforeAll(async () => {
    http = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/deep/path': { body: 'ok' } } }));
    tcp = await peers.start(startTcpPeer());
    daemon = await peers.start(
      startDaemonApi(
        stringify({
          checks: [
            { name: 'web', type: 'http', url: 'http://127.0.0.1:1/', interval: '1h', allowTargets: ['http://127.0.0.1:*'] },
            { name: 'port', type: 'tcp', host: '127.0.0.1', port: 1, interval: '1h', allowTargets: ['127.0.0.*', 'db.example:5432'] },
          ],
        }),
      ),
    );
  });

  afterAll(async () => {
    await peers.closeAll();
  });

  it('a URL prefix allows any path on the origin; a host glob any port of the host', async () => {
    const web = await daemon.app.inject(`/probe?check=web&target=${encodeURIComponent(http.url('/deep/path'))}`);
    expect(web.json(), web.body).toMatchObject({ ok: true });
    const port = await daemon.app.inject(`/probe?check=port&target=127.0.0.1:${tcp.port}`);
    expect(port.json(), port.body).toMatchObject({ ok: true });
  });

  it('refuses others with a 403 naming the closest pattern, and sends nothing', async () => {
    const before = http.requests.length;
    const res = await daemon.app.inject(`/probe?check=web&target=${encodeURIComponent(`https://127.0.0.1:${http.port}/deep/path`)}`);
    expect(res.statusCode).toBe(403);
    expect(res.json<{ message: string }>().message).toContain('closest pattern: "http://127.0.0.1:*"');
    const other = await daemon.app.inject('/probe?check=port&target=127.0.1.1:22');
    expect(other.statusCode).toBe(403);
    expect(other.json<{ message: string }>().message).toContain('closest pattern: "127.0.0.*" (* matches letters, digits and . _ ~ - only, never : / ? # @ %)');
    expect(http.requests.length).toBe(before);
  });
});
