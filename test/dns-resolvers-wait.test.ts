import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { queryDns } from '../src/net/dns-query.js';
import { startHostileDns, type HostileDns } from './peers/hostile-dns.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startUnbound, type Unbound } from './peers/unbound.js';
import { collect, startCli } from './support/cli.js';

// `run --wait` with a dns check that asks the zone's servers (Knot) and a real cache (unbound):
// it asks the cache only once the authoritative answer is right, waits for the TTL the cache
// reports, and gives up on a resolver that still disagrees after that TTL ran out.

const TTL = 4;
let knot: Knot;
let unbound: Unbound;
let stuck: HostileDns;
let dir: string;

beforeAll(async () => {
  knot = await startKnot({ zones: { 'wait.test': [`hub ${TTL} A 127.0.0.2`] } });
  unbound = await startUnbound({ upstream: knot.address, zones: ['wait.test'] });
  // A resolver that ignores TTLs: the old address, with a fresh 1 s TTL on every answer.
  stuck = await startHostileDns({ respond: (q) => (q.type === 'A' ? { answers: [{ type: 'A', name: q.name, ttl: 1, data: '127.0.0.2' }] } : { answers: [] }) });
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-dns-wait-'));
}, 30_000);

afterAll(async () => {
  await stuck.close();
  await unbound.close();
  await knot.close();
  await rm(dir, { recursive: true, force: true });
});

async function checksFile(name: string, resolver: string): Promise<string> {
  const check = { name: 'hub-dns', type: 'dns', query: 'hub.wait.test', resolvers: ['authoritative', resolver], authority: { via: knot.address, port: knot.port }, timeout: '2s', expect: { answers: ['127.0.0.3'] } };
  const file = join(dir, name);
  await writeFile(file, stringify({ checks: [check] }));
  return file;
}

describe('run --wait and DNS caches', { timeout: 60_000 }, () => {
  it('asks the cache only after the authoritative answer is right, reports when its old answer expires, and passes within the TTL plus one interval', async () => {
    const file = await checksFile('unbound.yaml', unbound.address);
    const child = startCli(['run', '--checks', file, '--wait', '30s', '--every', '1s', '--json']);
    const done = collect(child, 45_000);
    // Rounds run while Knot still serves the old address: unbound is never asked.
    await sleep(2500);
    expect(unbound.queries('hub.wait.test.')).toBe(0);
    // Someone else's traffic puts the old answer in the cache; then the record changes.
    const primed = await queryDns({ host: '127.0.0.1', port: unbound.port, name: 'hub.wait.test', record: 'A', transport: 'udp', timeoutMs: 2000, signal: new AbortController().signal });
    expect(primed.records).toEqual([{ value: '127.0.0.2', ttl: TTL }]);
    await knot.setZone('wait.test', [`hub ${TTL} A 127.0.0.3`]);
    const changedAt = performance.now();
    const res = await done;
    const tookMs = performance.now() - changedAt;
    expect(res.code, res.stderr).toBe(0);
    // TTL, plus one --every interval, plus the exit of the process.
    expect(tookMs).toBeLessThan((TTL + 1 + 2) * 1000);
    expect(res.stderr).toMatch(new RegExp(`1 failing \\(hub-dns: assertion\\), 0 passed; caches expire: hub-dns at ${unbound.address.replaceAll('.', '\\.')} by \\d+\\.\\ds; next round in`));
    // The cache was asked after the change: the priming query, then the gate's.
    expect(unbound.queries('hub.wait.test.')).toBeGreaterThanOrEqual(2);
  });

  it('fails a resolver that still disagrees after its TTL ran out, without waiting out --wait', async () => {
    await knot.setZone('wait.test', [`hub ${TTL} A 127.0.0.3`]);
    const file = await checksFile('stuck.yaml', stuck.address);
    const started = performance.now();
    const res = await collect(startCli(['run', '--checks', file, '--wait', '30s', '--every', '1s', '--json']), 45_000);
    expect(res.code).toBe(1);
    expect(performance.now() - started).toBeLessThan(15_000);
    const report = JSON.parse(res.stdout) as { results: { message: string }[] };
    expect(report.results[0]?.message).toMatch(
      new RegExp(`^${stuck.address} still answers 127\\.0\\.0\\.2, cached for at most 1 s more; the authoritative servers answer 127\\.0\\.0\\.3; ${stuck.address} still disagrees \\d+\\.\\ds after its TTL ran out \\(it ignores TTLs, or the record changed back\\)$`),
    );
  });
});
