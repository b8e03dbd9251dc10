import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { parseShard, shardFromOrdinal } from '../scheduler/shard.js';

/**
 * A problem the command reports in one line on stderr and exits 2 for: bad usage, a file it
 * cannot write, an address it cannot listen on. Exit 1 stays "a check failed" (run).
 */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Bad usage: a CommandError whose line also points at --help. */
export class UsageError extends CommandError {
  override name = 'UsageError';
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * The command line of serve, run and validate: node's parseArgs (strict, no positionals), except
 * that paths may follow one --checks as well as repeat it (`--checks a.yaml b/ --checks c.yaml`):
 * every argument after a --checks value up to the next flag is one more check path.
 * parseArgs' own errors come back as UsageErrors in the user's words.
 */
export function parseCommandLine<const O extends OptionsConfig>({ args, options }: { args: string[]; options: O }) {
  try {
    const { tokens } = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
    const rewritten = [...args];
    let afterChecks = false;
    for (const token of tokens) {
      if (token.kind === 'option') afterChecks = token.name === 'checks';
      else if (token.kind === 'option-terminator') afterChecks = false;
      else if (afterChecks) rewritten[token.index] = `--checks=${token.value}`;
    }
    return parseArgs({ args: rewritten, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw asUsageError(err);
  }
}

/** parseArgs' own errors as UsageErrors in the user's words (one line, exit 2); anything else as is. */
export function asUsageError(err: unknown): unknown {
  return isParseArgsError(err) ? new UsageError(describeParseArgsError(err)) : err;
}

function isParseArgsError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS');
}

/** What the flags that take a duration want, for the message when the value is missing. */
const DURATION_FLAGS: Record<string, string> = {
  '--wait': 'how long to rerun what fails, e.g. --wait 5m',
  '--every': 'the longest pause between reruns, e.g. --every 10s',
  '--grace': 'how long running checks may finish on SIGTERM, e.g. --grace 10s',
};

/** parseArgs' messages, without their advice on positionals starting with "-" (nobody needs it here). */
function describeParseArgsError(err: Error & { code: string }): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted !== undefined) return `unknown option ${quoted}`;
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted !== undefined) return `unexpected argument "${quoted}": check paths go after --checks`;
  // "--wait --timeout 20s": parseArgs calls the flag's argument "ambiguous" and suggests --wait=-XYZ.
  const flag = quoted?.split(' ')[0];
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined && /argument is ambiguous/.test(err.message)) return `${flag} needs a value, ${valueOf(flag)}; it was followed by another option`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined && DURATION_FLAGS[flag] !== undefined) return `${flag} needs a value, ${valueOf(flag)}`;
  return err.message;
}

function valueOf(flag: string): string {
  const duration = DURATION_FLAGS[flag];
  return duration === undefined ? `${flag} VALUE` : `a duration (${duration})`;
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
