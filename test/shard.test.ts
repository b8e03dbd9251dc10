import { describe, expect, it } from 'vitest';
import { MAX_SHARDS, parseShard, selectShard, shardFromOrdinal, shardOf } from '../src/scheduler/shard.js';

// Names shaped like real check files: shared prefixes, short numeric suffixes.
const names = Array.from({ length: 10_000 }, (_, i) => `svc-${i % 97}-${['dns', 'http', 'tls', 'db'][i % 4] ?? ''}-${Math.floor(i / 97)}`);
const checks = names.map((name) => ({ spec: { name } }));

describe('rendezvous sharding', () => {
  it('puts every check on exactly one shard, spread within 10% of even, for N = 1..5', () => {
    for (let count = 1; count <= 5; count++) {
      const shards = Array.from({ length: count }, (_, index) => selectShard(checks, { index, count }));
      const kept = shards.flat().map((check) => check.spec.name);
      expect(kept).toHaveLength(names.length);
      expect(new Set(kept).size).toBe(names.length);
      const even = names.length / count;
      for (const shard of shards) expect(Math.abs(shard.length - even) / even).toBeLessThanOrEqual(0.1);
    }
  });

  it('moves at most 1.2/(N+1) of the checks from N to N+1 shards, and only onto the new shard', () => {
    for (let count = 1; count <= 5; count++) {
      const moves = names.map((name) => [shardOf(name, count), shardOf(name, count + 1)]).filter(([before, after]) => before !== after);
      expect(moves.filter(([, after]) => after !== count)).toEqual([]);
      expect(moves.length / names.length).toBeLessThanOrEqual(1.2 / (count + 1));
    }
  });

  it('is stable across calls and keeps the input order', () => {
    const first = names.map((name) => shardOf(name, 5));
    expect(names.map((name) => shardOf(name, 5))).toEqual(first);
    // Pinned values: a change of hash would silently reshuffle every sharded deployment.
    expect(['hub-dns', 'hub-ingress', 'hub-db', 'hub-rollout'].map((name) => shardOf(name, 3))).toMatchInlineSnapshot(`
      [
        2,
        2,
        2,
        0,
      ]
    `);
    const shard = selectShard(checks, { index: 2, count: 5 });
    expect(shard.map((check) => check.spec.name)).toEqual(names.filter((_, i) => first[i] === 2));
  });
});

describe('parseShard', () => {
  it('accepts I/N with 0 <= I < N', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 4 / 10 ')).toEqual({ index: 4, count: 10 });
  });

  it.each([
    ['3', 'expected I/N with shard index I and shard count N (for example 0/3), got "3"'],
    ['1/', 'expected I/N with shard index I and shard count N (for example 0/3), got "1/"'],
    ['-1/3', 'expected I/N with shard index I and shard count N (for example 0/3), got "-1/3"'],
    ['a/b', 'expected I/N with shard index I and shard count N (for example 0/3), got "a/b"'],
    ['1.5/3', 'expected I/N with shard index I and shard count N (for example 0/3), got "1.5/3"'],
    ['0/0', 'shard count must be at least 1, got 0'],
    ['3/3', 'shard index 3 is out of range for 3 shards (indexes run from 0 to 2)'],
    ['1/1', 'shard index 1 is out of range for 1 shard (indexes run from 0 to 0)'],
    [`0/${MAX_SHARDS + 1}`, `shard count must be at most ${MAX_SHARDS}, got ${MAX_SHARDS + 1}`],
  ])('rejects %j', (text, message) => {
    expect(() => parseShard(text)).toThrow(message);
  });
});

describe('shardFromOrdinal', () => {
  it('takes the index from a StatefulSet pod name', () => {
    expect(shardFromOrdinal('driftwatch-0', 3)).toBe(0);
    expect(shardFromOrdinal('driftwatch-2', 3)).toBe(2);
    expect(shardFromOrdinal('dw-eu-west-1', 2)).toBe(1);
    expect(shardFromOrdinal('driftwatch-1.driftwatch.monitoring.svc.cluster.local', 2)).toBe(1);
  });

  it.each([
    ['driftwatch', 3, 'host name "driftwatch" does not end in a StatefulSet ordinal (expected NAME-N, like driftwatch-2)'],
    ['driftwatch-7f9c-abcde', 3, 'host name "driftwatch-7f9c-abcde" does not end in a StatefulSet ordinal (expected NAME-N, like driftwatch-2)'],
    ['driftwatch-3', 3, 'ordinal 3 of "driftwatch-3" is out of range for 3 shards (replicas and shard count differ)'],
    ['driftwatch-0', 0, 'shard count must be at least 1, got 0'],
  ])('rejects %j with %i shards', (hostname, count, message) => {
    expect(() => shardFromOrdinal(hostname, count)).toThrow(message);
  });
});
