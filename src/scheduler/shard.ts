/**
 * Splitting the checks between N replicas with no shared state: rendezvous (highest random
 * weight) hashing. Every replica scores each check against every shard index and keeps the checks
 * whose best score is its own index, so all replicas agree without talking to each other, and
 * going from N to N+1 shards moves only the checks the new shard wins (about 1/(N+1) of them).
 */

export interface Shard {
  index: number;
  count: number;
}

/** Past this, scoring every check against every shard stops being cheap, and no one runs so many. */
export const MAX_SHARDS = 1024;

/**
 * A fast, stable, well-mixed 32-bit hash of a name under a salt: FNV-1a over the UTF-16 code
 * units, the salt folded in, then murmur3's finalizer for avalanche (FNV alone mixes its low bits
 * poorly). Stable across processes and releases: shard membership and schedule offsets depend on it,
 * so changing it reshuffles every deployment.
 */
export function hashName(name: string, salt = 0): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ mix32(salt + 0x9e3779b9));
}

/** murmur3's fmix32: every input bit flips each output bit with probability about 1/2. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard index (0..count-1) a check name belongs to: the index with the highest score. */
export function shardOf(name: string, count: number): number {
  let best = 0;
  let bestScore = -1;
  for (let index = 0; index < count; index++) {
    const score = hashName(name, index);
    // Strictly greater: a tie goes to the lower index, the same on every replica.
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  }
  return best;
}

/** The checks of one shard, in their original order. */
export function selectShard<T extends { spec: { name: string } }>(checks: readonly T[], shard: Shard): T[] {
  return checks.filter((check) => shardOf(check.spec.name, shard.count) === shard.index);
}

/** Parses `I/N` (0 <= I < N), as given to --shard. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match?.[1] || !match[2]) {
    throw new Error(`expected I/N with shard index I and shard count N (for example 0/3), got "${text}"`);
  }
  const count = checkCount(Number(match[2]));
  const index = Number(match[1]);
  if (index >= count) {
    throw new Error(`shard index ${index} is out of range for ${count} shard${count === 1 ? '' : 's'} (indexes run from 0 to ${count - 1})`);
  }
  return { index, count };
}

/**
 * The shard index of a StatefulSet pod from its name (`driftwatch-2` -> 2); a fully qualified
 * host name is cut to its first label.
 */
export function shardFromOrdinal(hostname: string, count: number): number {
  checkCount(count);
  const podName = hostname.split('.')[0] ?? '';
  const match = /-(\d+)$/.exec(podName);
  if (!match?.[1]) {
    throw new Error(`host name "${hostname}" does not end in a StatefulSet ordinal (expected NAME-N, like driftwatch-2)`);
  }
  const index = Number(match[1]);
  if (index >= count) {
    // More replicas than shards would leave this one idle or double-run checks: say so at start.
    throw new Error(`ordinal ${index} of "${podName}" is out of range for ${count} shard${count === 1 ? '' : 's'} (replicas and shard count differ)`);
  }
  return index;
}

function checkCount(count: number): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`shard count must be at least 1, got ${count}`);
  if (count > MAX_SHARDS) throw new Error(`shard count must be at most ${MAX_SHARDS}, got ${count}`);
  return count;
}
