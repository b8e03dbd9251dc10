import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { DnsObservations } from '../src/checks/dns.js';
import { startHostileDns, type Responder } from './peers/hostile-dns.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startUnbound, type Unbound } from './peers/unbound.js';
import { parseChecks, runYaml } from './support/checks.js';

// `resolvers: [authoritative, ...]`: the zone's own servers (Knot) asked without recursion, and a
// real caching resolver (unbound, stub zone to Knot) that keeps an old answer for its TTL.

let knot: Knot;
let unbound: Unbound;
let silent: UdpSocket | undefined;
const ZONES = ['prop.test', 'neg.test', 'ttl.test'];

beforeAll(async () => {
  knot = await startKnot({
    zones: {
      'prop.test': ['hub 4 A 127.0.0.2'],
      'neg.test': ['hub 300 A 127.0.0.2'],
      'ttl.test': ['zero 0 A 127.0.0.2', 'max 2147483647 A 127.0.0.2'],
    },
  });
  unbound = await startUnbound({ upstream: knot.address, zones: ZONES });
  silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent?.bind(0, '127.0.0.1', resolve));
}, 30_000);

afterAll(async () => {
  await unbound.close();
  await knot.close();
  await new Promise<void>((resolve) => {
    if (silent) silent.close(resolve);
    else resolve();
  });
});

/** A dns check asking the zone's servers (found through Knot, on Knot's port) and `others`. */
function check(query: string, fields: Record<string, unknown> = {}, others: () => string[] = () => [unbound.address]): string {
  return stringify({ checks: [{ name: 'dns', type: 'dns', query, resolvers: ['authoritative', ...others()], authority: { via: knot.address, port: knot.port }, timeout: '3s', ...fields }] });
}

const AUTH = () => `authoritative ns.prop.test. (${knot.address})`;

describe('authoritative resolver and a caching resolver in front of it', () => {
  it('reports the cached old answer with the TTL left after a record change, and passes once it ran out', async () => {
    const before = await runYaml(check('hub.prop.test', { expect: { answers: ['127.0.0.2'] } }));
    expect(before.result).toMatchObject({ ok: true });
    const observed = before.result.observations as unknown as DnsObservations;
    expect(observed.zone).toBe('prop.test.');
    expect(observed.resolvers.map((r) => [r.resolver, r.authoritative, r.answers])).toEqual([
      [AUTH(), true, ['127.0.0.2']],
      [unbound.address, undefined, ['127.0.0.2']],
    ]);

    await knot.setZone('prop.test', ['hub 4 A 127.0.0.3']);
    const stale = await runYaml(check('hub.prop.test', { expect: { answers: ['127.0.0.3'] } }));
    const resolvers = (stale.result.observations as unknown as DnsObservations).resolvers;
    const [auth, cache] = resolvers;
    expect(auth).toMatchObject({ resolver: AUTH(), answers: ['127.0.0.3'], match: true });
    const left = cache?.cachedFor ?? -1;
    expect(left).toBeGreaterThanOrEqual(0);
    expect(left).toBeLessThanOrEqual(4);
    expect(cache).toMatchObject({ resolver: unbound.address, answers: ['127.0.0.2'], ttl: left, match: false });
    expect(stale.result).toMatchObject({
      ok: false,
      reason: 'assertion',
      message: `${unbound.address} still answers 127.0.0.2, cached for at most ${left} s more; the authoritative servers answer 127.0.0.3`,
    });
    expect(stale.samples.find((s) => s.name === 'driftwatch_dns_answer_match' && s.labels?.resolver === unbound.address)?.value).toBe(0);

    // The cache entry runs out after the TTL it reported: unbound asks Knot again.
    await new Promise((resolve) => setTimeout(resolve, (left + 1) * 1000));
    const after = await runYaml(check('hub.prop.test', { expect: { answers: ['127.0.0.3'] } }));
    expect(after.result).toMatchObject({ ok: true, message: 'ok' });
  }, 20_000);

  it('asks the caching resolver only once the authoritative answer is right, so it never caches the NXDOMAIN of a name not yet published', async () => {
    const yaml = check('soon.neg.test', { expect: { answers: ['127.0.0.7'] } });
    const early = await runYaml(yaml);
    expect(early.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `resolver authoritative ns.neg.test. (${knot.address}) answered NXDOMAIN, expected 127.0.0.7 (resolvers may cache it for 60 s, the zone's negative TTL); not asking ${unbound.address} until the authoritative answer is right`,
    });
    expect(unbound.queries('soon.neg.test.')).toBe(0);
    await knot.setZone('neg.test', ['hub 300 A 127.0.0.2', 'soon 300 A 127.0.0.7']);
    const published = await runYaml(yaml);
    expect(published.result).toMatchObject({ ok: true });
    expect(unbound.queries('soon.neg.test.')).toBe(1);
  });

  it('compares the others with the authoritative answer even without an expected set', async () => {
    await knot.setZone('prop.test', ['hub 4 A 127.0.0.4']);
    const stale = await runYaml(check('hub.prop.test'));
    expect(stale.result.ok).toBe(false);
    expect(stale.result.message).toMatch(new RegExp(`^${unbound.address} still answers 127\\.0\\.0\\.3, cached for at most [0-4] s more; the authoritative servers answer 127\\.0\\.0\\.4$`));
  });

  it('reports the zone negative TTL (SOA minimum) of a negative answer, and how long a cache keeps it', async () => {
    // Knot's zones have `SOA ... 60` with TTL 300: negative answers may be cached min(300, 60) s.
    const nx = await runYaml(check('new.neg.test', {}, () => []));
    const auth = `authoritative ns.neg.test. (${knot.address})`;
    expect(nx.result).toMatchObject({
      ok: false,
      reason: 'dns',
      message: `resolver ${auth} answered NXDOMAIN, expected A records (resolvers may cache it for 60 s, the zone's negative TTL)`,
    });
    expect((nx.result.observations as unknown as DnsObservations).resolvers[0]).toMatchObject({ resolver: auth, rcode: 'NXDOMAIN', negativeTtl: 60 });

    // Asked too early, unbound caches the NXDOMAIN; the record then appears in Knot.
    const early = await runYaml(stringify({ checks: [{ name: 'early', type: 'dns', query: 'new.neg.test', resolvers: [unbound.address], expect: { rcode: 'NXDOMAIN' } }] }));
    expect(early.result).toMatchObject({ ok: true });
    await knot.setZone('neg.test', ['hub 300 A 127.0.0.2', 'new 300 A 127.0.0.5']);
    const planted = await runYaml(check('new.neg.test', { expect: { answers: ['127.0.0.5'] } }));
    const cache = (planted.result.observations as unknown as DnsObservations).resolvers[1];
    expect(cache).toMatchObject({ resolver: unbound.address, rcode: 'NXDOMAIN' });
    expect(cache?.negativeTtl).toBeGreaterThanOrEqual(55);
    expect(cache?.negativeTtl).toBeLessThanOrEqual(60);
    expect(cache?.cachedFor).toBe(cache?.negativeTtl);
    expect(planted.result.message).toBe(`${unbound.address} still answers NXDOMAIN, cached for at most ${cache?.negativeTtl ?? '?'} s more; the authoritative servers answer 127.0.0.5`);
  });
});

describe('bad input', () => {
  it('TTL 0 is never cached and TTL 2^31-1 is capped by the cache: both read as numbers, bounded', async () => {
    const zero = await runYaml(check('zero.ttl.test'));
    expect(zero.result).toMatchObject({ ok: true });
    expect((zero.result.observations as unknown as DnsObservations).resolvers.map((r) => r.ttl)).toEqual([0, 0]);
    const max = await runYaml(check('max.ttl.test'));
    expect(max.result).toMatchObject({ ok: true });
    await knot.setZone('ttl.test', ['zero 0 A 127.0.0.6', 'max 2147483647 A 127.0.0.6']);
    expect((await runYaml(check('zero.ttl.test'))).result).toMatchObject({ ok: true });
    const held = await runYaml(check('max.ttl.test'));
    const cache = (held.result.observations as unknown as DnsObservations).resolvers[1];
    // unbound keeps an answer at most cache-max-ttl (a day), whatever the zone says.
    expect(cache?.cachedFor).toBeGreaterThan(86_000);
    expect(cache?.cachedFor).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(held.result.message).toBe(`${unbound.address} still answers 127.0.0.2, cached for at most ${cache?.cachedFor ?? '?'} s more; the authoritative servers answer 127.0.0.6`);
  });

  it('a TTL with the top bit set counts as 0 (RFC 2181), not as 136 years', async () => {
    const wild = await startHostileDns({ respond: (q) => (q.type === 'A' ? { answers: [{ type: 'A', name: q.name, ttl: 2 ** 32 - 1, data: '127.0.0.9' }] } : undefined) });
    try {
      const run = await runYaml(check('hub.neg.test', {}, () => [wild.address]));
      expect(run.result.message).toBe(`${wild.address} still answers 127.0.0.9, cached for at most 0 s more; the authoritative servers answer 127.0.0.2`);
      expect((run.result.observations as unknown as DnsObservations).resolvers[1]).toMatchObject({ ttl: 2 ** 32 - 1, cachedFor: 0 });
    } finally {
      await wild.close();
    }
  });

  it('a name server that answers without the AA flag is an error with that reason', async () => {
    // unbound as the "name server": it answers from its cache, never authoritatively.
    const yaml = stringify({ checks: [{ name: 'dns', type: 'dns', query: 'hub.neg.test', resolvers: ['authoritative'], authority: { via: knot.address, port: unbound.port }, timeout: '3s' }] });
    const run = await runYaml(yaml);
    expect(run.result).toMatchObject({ ok: false, reason: 'dns' });
    expect(run.result.message).toMatch(new RegExp(`^resolver authoritative ns\\.neg\\.test\\. \\(127\\.0\\.0\\.1:${unbound.port}\\): answered [A-Z]+ without the AA flag: not authoritative for neg\\.test\\.$`));
  });

  it('a name server that does not answer fails with timeout, and the other resolvers are not asked', async () => {
    const port = silent?.address().port ?? 0;
    const yaml = stringify({ checks: [{ name: 'dns', type: 'dns', query: 'hub.neg.test', resolvers: ['authoritative', unbound.address], authority: { via: knot.address, port }, timeout: '2s' }] });
    const run = await runYaml(yaml);
    expect(run.result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(run.result.message).toMatch(new RegExp(`^resolver authoritative ns\\.neg\\.test\\. \\(127\\.0\\.0\\.1:\\d+\\): no answer within \\d+ms.*; not asking ${unbound.address} until the authoritative answer is right$`));
    expect((run.result.observations as unknown as DnsObservations).resolvers[1]).toMatchObject({ resolver: unbound.address, answers: [], match: false, notAsked: true });
  });

  it('a zone whose name servers do not resolve, and a name in no zone, fail with their reason', async () => {
    // unbound as `via` forwards ns.prop.test's A query to Knot (fine); a name outside Knot's zones is REFUSED.
    const outside = stringify({ checks: [{ name: 'dns', type: 'dns', query: 'hub.nowhere.example', resolvers: ['authoritative'], authority: { via: knot.address, port: knot.port }, timeout: '3s' }] });
    const run = await runYaml(outside);
    expect(run.result).toMatchObject({ ok: false, reason: 'dns' });
    expect(run.result.message).toBe(`resolver authoritative: finding the zone of hub.nowhere.example. through ${knot.address}: REFUSED to hub.nowhere.example. SOA`);
  });

  it('a zone whose name servers do not resolve fails naming them; a zone with many asks at most 8', async () => {
    const soa = (name: string) => ({ type: 'SOA' as const, name, ttl: 60, data: { mname: `ns.${name}`, rname: `hostmaster.${name}`, serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 5 } });
    // lame.test names a server in a zone nobody serves (REFUSED); many.test names 20 servers on loopback.
    const respond: Responder = (q) => {
      const name = q.name.toLowerCase();
      if (q.type === 'SOA' && (name === 'lame.test' || name === 'many.test')) return { answers: [soa(name)] };
      if (q.type === 'SOA') return { answers: [], rcode: 3 };
      if (q.type === 'NS' && name === 'lame.test') return { answers: [{ type: 'NS', name, ttl: 60, data: 'ns.gone.test' }] };
      if (q.type === 'NS' && name === 'many.test') return { answers: Array.from({ length: 20 }, (_, i) => ({ type: 'NS' as const, name, ttl: 60, data: `ns${String(i).padStart(2, '0')}.many.test` })) };
      if (q.type === 'A' && name.endsWith('.many.test')) return { answers: [{ type: 'A', name, ttl: 60, data: '127.0.0.1' }] };
      if (q.type === 'AAAA' && name.endsWith('.many.test')) return { answers: [] };
      return undefined;
    };
    const lying = await startHostileDns({ respond });
    try {
      const yaml = (query: string) => stringify({ checks: [{ name: 'dns', type: 'dns', query, resolvers: ['authoritative'], authority: { via: lying.address, port: lying.port }, timeout: '3s' }] });
      const lame = await runYaml(yaml('hub.lame.test'));
      expect(lame.result).toMatchObject({
        ok: false,
        reason: 'dns',
        message: `resolver authoritative: none of zone lame.test.'s name servers resolves to an address through ${lying.address}: ns.gone.test. (REFUSED)`,
      });
      const many = await runYaml(yaml('hub.many.test'));
      expect(many.result).toMatchObject({ ok: true });
      const asked = (many.result.observations as unknown as DnsObservations).resolvers.map((r) => r.resolver);
      expect(asked).toEqual(Array.from({ length: 8 }, (_, i) => `authoritative ns0${i}.many.test. (${lying.address})`));
    } finally {
      await lying.close();
    }
  });

  it('rejects authority without authoritative, and accepts authoritative only in dns resolvers', () => {
    expect(() => parseChecks(stringify({ checks: [{ name: 'd', type: 'dns', query: 'a.test', resolvers: ['127.0.0.1:53'], authority: { port: 53 } }] }))).toThrow(/authority.*only applies with authoritative/s);
    expect(parseChecks(stringify({ checks: [{ name: 'd', type: 'dns', query: 'a.test', resolvers: ['authoritative', '1.1.1.1'] }] }))[0]?.spec).toMatchObject({ resolvers: ['authoritative', '1.1.1.1'] });
  });
});
