import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { IngressObservations } from '../src/checks/ingress.js';
import { queryDns } from '../src/net/dns-query.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startUnbound, type Unbound } from './peers/unbound.js';
import { parseChecks, runYaml } from './support/checks.js';

// The ingress check with `authoritative`: the zone's servers (Knot) first, the cache (unbound)
// only once they answer the expected ingress, and the cache's old answer told with its TTL left.

const TTL = 4;
let knot: Knot;
let unbound: Unbound;
const peers: HttpPeer[] = [];
let port = 0;

beforeAll(async () => {
  knot = await startKnot({ zones: { 'ing.test': [`hub ${TTL} A 127.0.0.3`] } });
  unbound = await startUnbound({ upstream: knot.address, zones: ['ing.test'] });
  // The new ingress on 127.0.0.2 and the old host on 127.0.0.3, one port (the URL has one).
  for (let attempt = 1; peers.length === 0; attempt++) {
    const fresh = await startHttpPeer({ host: '127.0.0.2', routes: { '/': { status: 200, body: 'new' } } });
    try {
      peers.push(fresh, await startHttpPeer({ host: '127.0.0.3', port: fresh.port, routes: { '/': { status: 200, body: 'old' } } }));
      port = fresh.port;
    } catch (err) {
      await fresh.close();
      if (attempt >= 5) throw err;
    }
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.close()));
  await unbound.close();
  await knot.close();
});

function yaml(): string {
  return stringify({
    checks: [{ name: 'hub-ingress', type: 'ingress', url: `http://hub.ing.test:${port}/`, ingress: ['127.0.0.2'], resolvers: ['authoritative', unbound.address], authority: { via: knot.address, port: knot.port }, timeout: '5s' }],
  });
}

describe('ingress with resolvers: [authoritative, ...]', () => {
  it('does not ask the cache while the zone still points elsewhere, then reports its old answer with the TTL left, and passes after it', async () => {
    const early = await runYaml(yaml());
    expect(early.result.ok).toBe(false);
    expect(early.result.message).toContain(`nothing through ${unbound.address} (not asked until the authoritative answer is right)`);
    expect(unbound.queries('hub.ing.test.')).toBe(0);

    await queryDns({ host: '127.0.0.1', port: unbound.port, name: 'hub.ing.test', record: 'A', transport: 'udp', timeoutMs: 2000, signal: new AbortController().signal });
    await knot.setZone('ing.test', [`hub ${TTL} A 127.0.0.2`]);
    const stale = await runYaml(yaml());
    const observed = stale.result.observations as unknown as IngressObservations;
    const cache = observed.resolvers.find((r) => r.resolver === unbound.address);
    const left = cache?.cachedFor ?? -1;
    expect(left).toBeGreaterThanOrEqual(0);
    expect(left).toBeLessThanOrEqual(TTL);
    expect(observed.resolvers[0]).toMatchObject({ resolver: `authoritative ns.ing.test. (${knot.address})`, authoritative: true, answers: ['127.0.0.2'] });
    expect(stale.result.ok).toBe(false);
    expect(stale.result.message.endsWith(`; ${unbound.address} still answers 127.0.0.3, cached for at most ${left} s more; the authoritative servers answer 127.0.0.2`)).toBe(true);

    await sleep((left + 1) * 1000);
    const after = await runYaml(yaml());
    expect(after.result).toMatchObject({ ok: true });
  }, 20_000);

  it('accepts authoritative and authority in ingress, and authority only with it', () => {
    const check = { name: 'i', type: 'ingress', url: 'https://hub.example.com/', ingress: ['192.0.2.1'] };
    expect(parseChecks(stringify({ checks: [{ ...check, resolvers: ['authoritative', '1.1.1.1'], authority: { via: '1.1.1.1' } }] }))[0]?.spec).toMatchObject({ authority: { via: '1.1.1.1', port: 53 } });
    expect(() => parseChecks(stringify({ checks: [{ ...check, authority: { port: 53 } }] }))).toThrow(/only applies with authoritative/);
  });
});
