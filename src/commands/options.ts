import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { LevelWithSilent } from 'pino';
import { parseShard, shardFromOrdinal } from '../shard.js';

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function parseLogLevel(value: string | undefined, fallback: LevelWithSilent): LevelWithSilent {
  if (value === undefined) return fallback;
  const level = LEVELS.find((l) => l === value);
  if (!level) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  return level;
}

export function parsePositiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** --shard I/N, or ordinal/N to take I from a StatefulSet pod name (driftwatch-2 -> 2). */
export function parseShardOption(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  try {
    const ordinal = /^ordinal\/(\d+)$/.exec(value);
    if (ordinal?.[1] !== undefined) return { index: shardFromOrdinal(process.env.HOSTNAME ?? hostname(), Number(ordinal[1])), count: Number(ordinal[1]) };
    return parseShard(value);
  } catch (err) {
    throw new UsageError(`--shard: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The API token from --api-token-file or DRIFTWATCH_API_TOKEN; never printed. */
export function readApiToken(file: string | undefined): string | undefined {
  if (file !== undefined) {
    try {
      const token = readFileSync(file, 'utf8').trim();
      if (token === '') throw new UsageError(`--api-token-file ${file} is empty`);
      return token;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--api-token-file ${file} cannot be read`);
    }
  }
  const fromEnv = process.env.DRIFTWATCH_API_TOKEN?.trim();
  return fromEnv === '' ? undefined : fromEnv;
}

export function packageVersion(): string {
  const raw: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return raw !== null && typeof raw === 'object' && 'version' in raw && typeof raw.version === 'string' ? raw.version : '0.0.0';
}

export const DEFAULT_CHECKS = ['checks'];
