import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_TYPES, checkTypes } from '../src/checks/registry.js';
import { baseFields } from '../src/config/base.js';
import { checkFileJsonSchema } from '../src/config/json-schema.js';
import { loadChecks, parseCheckFile } from '../src/config/load.js';
import { ConfigError, formatProblem, type Problem } from '../src/config/problem.js';
import { runCli } from './support/cli.js';
import { DEFAULTS, DEFAULTS_SCHEDULED, EXAMPLES, SUPPORT, supportOf, type Mapping, type Value } from './support/sweep-examples.js';

/*
 * Every value of every example check replaced, one at a time, by each of a list of bad values:
 * `validate` (the loader the CLI, `run` and `serve` share) must answer "valid" or located
 * problems, never throw. A refinement that parses a value an earlier check of the same schema
 * refused (zod runs it anyway when that check's issue lets parsing continue) used to crash it.
 */

/** Written into the file as the plain scalar 1e309 (a number YAML reads as Infinity). */
const BIG = '__sweep_big_number__';

function deepList(depth: number): Value {
  let value: Value = ['bottom'];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const BAD_VALUES: Value[] = [
  'not a url',
  '1x',
  '',
  '*',
  'https://',
  'http://[::1',
  -1,
  0,
  BIG,
  3.5,
  true,
  null,
  [],
  {},
  'x'.repeat(10_000),
  '\u0000',
  { env: 1 },
  { env: 'A', file: '/b' },
  deepList(64),
];

/** Values worth trying where a URL goes only: valid URLs that a refinement refuses. */
const BAD_URLS: Value[] = ['https://user:pw@hub.example.com/', 'http://[::1]:1/', 'https://203.0.113.10/'];

function badValuesAt(place: Path): Value[] {
  return place.at(-1) === 'url' ? [...BAD_VALUES, ...BAD_URLS] : BAD_VALUES;
}

type Path = (string | number)[];

/** Every place in a value: each key, each list item, nested to the leaves (not the root itself). */
function placesOf(value: Value, prefix: Path = []): Path[] {
  const children: [string | number, Value][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : value !== null && typeof value === 'object' ? Object.entries(value) : [];
  return children.flatMap(([key, child]) => [[...prefix, key], ...placesOf(child, [...prefix, key])]);
}

function replaced(value: Value, path: Path, by: Value): Value {
  const [key, ...rest] = path;
  if (key === undefined) return by;
  if (Array.isArray(value)) return value.map((v, i) => (i === key ? replaced(v, rest, by) : v));
  if (value === null || typeof value !== 'object') return value;
  return { ...value, [key]: replaced(value[key] ?? null, rest, by) };
}

/**
 * Block YAML as people write it, strings double-quoted (JSON's escapes are YAML's too). Written
 * here rather than with yaml's stringify, which took about as long as validating the file.
 */
function fileText(content: Mapping): string {
  return `${yamlOf(content, '').slice(1)}\n`;
}

function yamlOf(value: Value, indent: string): string {
  // The deep list in flow style: 64 ever more indented lines would make its files the slowest to parse.
  if (Array.isArray(value) && indent.length > 16) return ` ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return value.length === 0 ? ' []' : value.map((item) => `\n${indent}-${yamlOf(item, `${indent}  `)}`).join('');
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return ' {}';
    return entries.map(([key, item]) => `\n${indent}${/^[A-Za-z_][\w.-]*$/.test(key) ? key : JSON.stringify(key)}:${yamlOf(item, `${indent}  `)}`).join('');
  }
  return ` ${value === BIG ? '1e309' : JSON.stringify(value)}`;
}

/** The checks below a swept defaults block: every key of it reaches one of them. */
const UNDER_DEFAULTS = EXAMPLES.filter((e) => ['tcp', 'http', 'k8s-rollout', 'cnpg-cluster'].includes(e.type));

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** file:line:col: path: message, where the path may be empty (a problem of the whole file). */
const LOCATED = /^[^:]+:\d+:\d+: (?:[\w.[\]-]+: )?\S/;

describe('bad values anywhere in a check file are located problems, never a crash', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-sweep-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Validates one file in-process as `validate` does: undefined when valid, else its problems as
   * the CLI prints them; SweepCrash for anything else. parseCheckFile is loadChecks's work on one
   * file's text, without the file system (4 ms a file under vitest, which thousands of files
   * would spend mostly there); a valid file that names other checks also goes through loadChecks
   * itself, whose cross-file checks (dependsOn, digestFrom) run on valid files only.
   */
  async function validateText(text: string, crossFile = true): Promise<string[] | undefined> {
    const file = join(dir, 'sweep.yaml');
    const shown = relative(process.cwd(), file);
    const problems: Problem[] = [];
    try {
      parseCheckFile(shown, text, problems, checkTypes);
      if (problems.length === 0 && !crossFile) return undefined;
      if (problems.length === 0) {
        await writeFile(file, text);
        await loadChecks([file], checkTypes);
        return undefined;
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new SweepCrash(err);
      problems.push(...err.problems);
    }
    const lines = problems.map(formatProblem);
    // Plain checks, not expect(): a few hundred thousand assertions would slow the sweep down.
    const unlocated = problems.filter((p) => p.file !== shown || !(p.line >= 1) || !(p.col >= 1) || p.message === '');
    const unformatted = lines.filter((line) => !LOCATED.test(line));
    if (unlocated.length > 0 || unformatted.length > 0) throw new SweepCrash(new Error(`not located: ${JSON.stringify([...unlocated, ...unformatted])}`));
    return lines;
  }

  it('the examples are valid, and between them use every key of every check type', async () => {
    expect(await validateText(fileText({ checks: [...SUPPORT, ...EXAMPLES] }))).toBeUndefined();
    expect(await validateText(fileText({ defaults: DEFAULTS, checks: [...SUPPORT, ...EXAMPLES] }))).toBeUndefined();
    expect(new Set(EXAMPLES.map((e) => e.type))).toEqual(new Set(CHECK_TYPES));
    const used = EXAMPLES.map((example) => `${example.type} ${placesOf(example).map(showPath).join(' ')} `);
    // The keys every check has are one schema (baseFields): an example of any type covers them.
    const shared = (path: string) => Object.keys(baseFields).some((key) => path === `.${key}` || path.startsWith(`.${key}.`) || path.startsWith(`.${key}[`));
    const missing = schemaKeyPaths().filter(({ type, path, pattern }) => !used.some((line) => (shared(path) || line.startsWith(`${type} `)) && pattern.test(line)));
    expect(missing.map((m) => `${m.type} ${m.path}`)).toEqual([]);
  });

  /** Crash text (first stack frame included) -> the first place that caused it. */
  const crashes = new Map<string, string>();
  async function sweepOne(where: string, content: Mapping, crossFile: boolean): Promise<void> {
    try {
      await validateText(fileText(content), crossFile);
    } catch (err) {
      if (!(err instanceof SweepCrash)) throw err;
      if (!crashes.has(err.message)) crashes.set(err.message, where);
    }
  }

  it('every value of every example, replaced by each bad value', async () => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let cases = 0;
    // Each key path of a type once (list items by position alike): its later examples add the
    // keys the first could not have (schedule beside interval, ingressFrom beside ingress...).
    const swept = new Set<string>();
    for (const example of EXAMPLES) {
      for (const place of [[], ...placesOf(example)]) {
        const key = place.length === 0 ? 'the whole check' : `${example.type} ${showPath(place.map((k) => (typeof k === 'number' ? 0 : k)))}`;
        if (swept.has(key)) continue;
        swept.add(key);
        for (const bad of badValuesAt(place)) {
          const support = supportOf(example);
          await sweepOne(`${example.name}${showPath(place)} = ${shortly(bad)}`, { checks: [...support, replaced(example, place, bad)] }, support.length > 0);
          cases++;
        }
      }
    }
    for (const defaults of [DEFAULTS, DEFAULTS_SCHEDULED]) {
      for (const place of [[], ...placesOf(defaults)]) {
        for (const bad of BAD_VALUES) await sweepOne(`defaults${showPath(place)} = ${shortly(bad)}`, { defaults: replaced(defaults, place, bad), checks: [...SUPPORT, ...UNDER_DEFAULTS] }, true);
        cases += BAD_VALUES.length;
      }
    }
    const { user, system } = process.cpuUsage(cpu);
    console.log(`bad-value sweep: ${cases} files in ${Math.round(performance.now() - started)} ms (${Math.round((user + system) / 1000)} ms of CPU)`);
    expect(cases).toBeGreaterThan(4000);
    // Each distinct crash once (the first place it was seen), so one bug does not hide another.
    expect([...crashes.entries()].map(([error, where]) => `${where}: ${error}`)).toEqual([]);
  });

  it('through the real CLI: validate, run and serve answer with located problems (exit 2), not a crash', async () => {
    const url = EXAMPLES.filter((e) => 'url' in e);
    const files: string[] = [];
    for (const [i, check] of [...url.map((e) => replaced(e, ['url'], 'not a url')), replaced(url[0] ?? {}, ['url'], 'http://[::1'), replaced(EXAMPLES[0] ?? {}, ['port'], BIG)].entries()) {
      const file = join(dir, `cli-${i}.yaml`);
      await writeFile(file, fileText({ checks: [...SUPPORT, check] }));
      files.push(file);
    }
    for (const file of files) {
      const result = await runCli(['validate', '--checks', file]);
      expect(result.stderr).not.toContain('unexpected error');
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^${escape(relative(ROOT, file))}:\\d+:\\d+: checks\\[2\\]\\.(url|port): `, 'm'));
    }
    for (const command of [['run'], ['serve', '--listen', '127.0.0.1:0']]) {
      const [verb = '', ...rest] = command;
      const result = await runCli([verb, '--checks', files[0] ?? '', ...rest]);
      expect(result.stderr).not.toContain('unexpected error');
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('checks[2].url: expected an http:// or https:// URL');
    }
  });
});

/** A thrown error that is not a ConfigError: the first lines of its stack say where. */
class SweepCrash extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? (cause.stack ?? cause.message).split('\n').slice(0, 3).join(' | ') : String(cause));
  }
}

function shortly(value: Value): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function showPath(path: Path): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; additionalProperties?: JsonSchema | boolean; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; const?: unknown };

/** Every key path the JSON Schema of the file format gives each check type: `.expect.headers.*.matches`. */
function schemaKeyPaths(): { type: string; path: string; pattern: RegExp }[] {
  const schema = checkFileJsonSchema(checkTypes) as JsonSchema;
  const items = schema.properties?.checks?.items;
  const options = items?.oneOf ?? items?.anyOf ?? [];
  const found: { type: string; path: string; pattern: RegExp }[] = [];
  for (const option of options) {
    const type = String(option.properties?.type?.const);
    for (const path of new Set(keyPaths(option, ''))) {
      if (path === '.type') continue;
      const pattern = new RegExp(` ${escape(path).replace(/\\\.\\\*/g, '\\.[^ .[]+').replace(/\\\[\\\]/g, '\\[\\d+\\]')}[ .[]`);
      found.push({ type, path, pattern });
    }
  }
  return found;
}

function keyPaths(schema: JsonSchema, prefix: string): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) out.push(`${prefix}.${key}`, ...keyPaths(child, `${prefix}.${key}`));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) out.push(...keyPaths(branch, prefix));
  if (schema.items) out.push(...keyPaths(schema.items, `${prefix}[]`));
  if (typeof schema.additionalProperties === 'object') out.push(...keyPaths(schema.additionalProperties, `${prefix}.*`));
  return out;
}
