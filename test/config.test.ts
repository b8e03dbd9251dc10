import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_TYPES, checkTypes } from '../src/checks/registry.js';
import { loadChecks, parseCheckFile } from '../src/config/load.js';
import { ConfigError, formatProblem, type Problem } from '../src/config/problem.js';
import { EVERY_PROBLEM, everyProblem } from './support/config-cases.js';

function problemsOf(yaml: string): string[] {
  const problems: Problem[] = [];
  parseCheckFile('t.yaml', yaml, problems, checkTypes);
  return problems.map(formatProblem);
}

const TCP = 'name: a\n    type: tcp\n    host: 127.0.0.1\n    port: 1';
const types = CHECK_TYPES.join(', ');

// Each invalid snippet with the exact text a user sees: file:line:col: path: message.
const INVALID: [string, string, string[]][] = [
  ['unknown type', 'checks:\n  - name: a\n    type: htp\n', [`t.yaml:3:11: checks[0].type: unknown check type "htp" (accepted: ${types})`]],
  ['missing type', 'checks:\n  - name: a\n', [`t.yaml:2:5: checks[0].type: missing check type (accepted: ${types})`]],
  [
    'unknown key',
    `checks:\n  - ${TCP}\n    prot: 2\n`,
    ['t.yaml:6:5: checks[0].prot: unknown key "prot" (accepted: name, description, interval, schedule, timeout, labels, allowTargets, dependsOn, maintenance, type, host, port, resolve, endpointsFrom, ipProtocol, ipProtocolFallback)'],
  ],
  ['a number in quotes', 'checks:\n  - name: a\n    type: tcp\n    host: x\n    port: "80"\n', ['t.yaml:5:11: checks[0].port: expected a number, written without quotes (got "80")']],
  ['missing required key', 'checks:\n  - name: a\n    type: tcp\n    port: 80\n', ['t.yaml:2:5: checks[0].host: required (a string)']],
  ['bad name', 'checks:\n  - name: Hub_DNS\n    type: tcp\n    host: x\n    port: 1\n', ['t.yaml:2:11: checks[0].name: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "Hub_DNS")']],
  ['bad duration', `checks:\n  - ${TCP}\n    interval: 5 minutes\n`, ['t.yaml:6:15: checks[0].interval: expected a duration: a number and ms, s, m or h, like 30s or 1.5m (got "5 minutes")']],
  // Each of zod's own messages in the user's words (issue 16.7): what is wanted, then what was there.
  ['number too big', `checks:\n  - ${TCP.replace('port: 1', 'port: 70000')}\n`, ['t.yaml:5:11: checks[0].port: must be at most 65535 (got 70000)']],
  ['not a whole number', `checks:\n  - ${TCP.replace('port: 1', 'port: 1.5')}\n`, ['t.yaml:5:11: checks[0].port: expected a whole number (got 1.5)']],
  ['a positive number', `checks:\n  - name: a\n    type: http\n    url: http://h/\n    maxBodyBytes: 0\n`, ['t.yaml:5:19: checks[0].maxBodyBytes: must be more than 0 (got 0)']],
  ['an empty string', 'checks:\n  - name: a\n    type: tcp\n    host: ""\n    port: 1\n', ['t.yaml:4:11: checks[0].host: must not be empty (got "")']],
  ['an empty list', 'checks:\n  - name: a\n    type: dns\n    query: h\n    resolvers: []\n', ['t.yaml:5:16: checks[0].resolvers: must list at least one item (got an empty list)']],
  ['a string for a list', `checks:\n  - ${TCP}\n    allowTargets: "tcp://h:*"\n`, ['t.yaml:6:19: checks[0].allowTargets: expected a list (got "tcp://h:*")']],
  ['a list for a mapping', `checks:\n  - ${TCP}\n    labels: [a]\n`, ['t.yaml:6:13: checks[0].labels: expected a mapping (got a list)']],
  ['not a boolean', 'checks:\n  - name: a\n    type: tls\n    host: h\n    expect: { chainVerifies: "yes" }\n', ['t.yaml:5:30: checks[0].expect.chainVerifies: expected true or false (got "yes")']],
  ['not one of the values', 'checks:\n  - name: a\n    type: dns\n    query: h\n    record: B\n', ['t.yaml:5:13: checks[0].record: expected one of "A", "AAAA", "CNAME", "TXT", "NS", "MX", "SRV", "CAA", "SOA" (got "B")']],
  ['none of a union', `checks:\n  - ${TCP}\n    resolve: x\n`, ['t.yaml:6:14: checks[0].resolve: expected an IPv4 address like 203.0.113.10 or an IPv6 address like 2001:db8::10']],
  ['a number for a duration', `checks:\n  - ${TCP}\n    timeout: 5\n`, ['t.yaml:6:14: checks[0].timeout: expected a duration: a number and ms, s, m or h, like 30s or 1.5m (got 5)']],
  ['a zero duration', `checks:\n  - ${TCP}\n    interval: 0s\n`, ['t.yaml:6:15: checks[0].interval: must be longer than 0 (got "0s")']],
  ['a bad environment variable name', 'checks:\n  - name: db\n    type: postgres\n    host: h\n    database: d\n    user: u\n    password: { env: DB-PW }\n', ['t.yaml:7:22: checks[0].password.env: must be an environment variable name: letters, digits and _, like HUB_TOKEN (got "DB-PW")']],
  ['a number for a default schedule', `defaults:\n  schedule: 5\nchecks:\n  - ${TCP}\n`, ['t.yaml:2:13: defaults.schedule: expected a cron expression of 5 fields (minute hour day month weekday) or 6 with seconds first, like "*/5 * * * *" for every 5 minutes (got 5)']],
  ['interval and schedule', `checks:\n  - ${TCP}\n    interval: 5m\n    schedule: "* * * * *"\n`, ['t.yaml:7:15: checks[0].schedule: give either interval or schedule, not both']],
  ['bad cron', `checks:\n  - ${TCP}\n    schedule: "99 * * * *"\n`, ['t.yaml:6:15: checks[0].schedule: expected a cron expression of 5 fields (minute hour day month weekday) or 6 with seconds first, like "*/5 * * * *" for every 5 minutes (got "99 * * * *")']],
  ['timeout over interval', `checks:\n  - ${TCP}\n    interval: 5s\n    timeout: 10s\n`, ['t.yaml:7:14: checks[0].timeout: timeout 10s exceeds interval 5s (runs would overlap and be skipped)']],
  ['YAML syntax', 'checks:\n  - name: a\n    type: tcp\n   host: x\n', ['t.yaml:4:1: YAML: Sequence item without - indicator']],
  ['duplicate YAML key', 'checks:\n  - name: a\n    name: b\n', ['t.yaml:3:5: YAML: Map keys must be unique']],
  ['empty file', '', ['t.yaml:1:1: checks: required (a list)']],
  ['checks not a list', 'checks: 3\n', ['t.yaml:1:9: checks: expected a list (got 3)']],
  [
    'an unknown top-level key does not hide the problems of the checks',
    'defualts:\n  interval: 5s\nchecks:\n  - name: A\n    type: tcp\n    host: x\n    port: 1\n',
    ['t.yaml:1:1: defualts: unknown key "defualts" (accepted: defaults, checks)', 't.yaml:4:11: checks[0].name: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "A")'],
  ],
  [
    'an unknown type does not hide a bad name (the fields every check has are checked on their own)',
    'checks:\n  - name: A\n    type: nope\n',
    [`t.yaml:3:11: checks[0].type: unknown check type "nope" (accepted: ${types})`, 't.yaml:2:11: checks[0].name: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "A")'],
  ],
  [
    'an unknown type does not hide bad timing',
    'checks:\n  - name: a\n    type: nope\n    interval: 5s\n    timeout: 10s\n',
    [`t.yaml:3:11: checks[0].type: unknown check type "nope" (accepted: ${types})`, 't.yaml:5:14: checks[0].timeout: timeout 10s exceeds interval 5s (runs would overlap and be skipped)'],
  ],
  ['unknown defaults key', 'defaults:\n  intervall: 5s\nchecks: []\n', ['t.yaml:2:3: defaults.intervall: unknown key "intervall" (accepted: interval, schedule, timeout, labels, maintenance, kubeconfig, context)']],
  [
    'bad default reported once, at the default',
    `defaults:\n  interval: soon\nchecks:\n  - ${TCP}\n  - ${TCP.replace('name: a', 'name: b')}\n`,
    ['t.yaml:2:13: defaults.interval: expected a duration: a number and ms, s, m or h, like 30s or 1.5m (got "soon")'],
  ],
  [
    'reserved and malformed label names',
    `checks:\n  - ${TCP}\n    labels: { check: x, "bad-key": y }\n`,
    [
      't.yaml:6:15: checks[0].labels.check: reserved label name (reserved: check, type, location, result, reason, resolver, answer, via, phase, verdict, state, le, job, instance)',
      't.yaml:6:25: checks[0].labels.bad-key: label names must match [a-zA-Z_][a-zA-Z0-9_]*: letters, digits and underscores, like service or team_name',
    ],
  ],
  [
    'an inline secret is refused without being printed',
    'checks:\n  - name: db\n    type: postgres\n    host: 127.0.0.1\n    database: app\n    user: app\n    password: hunter2-inline-canary\n',
    ['t.yaml:7:15: checks[0].password: expected a secret reference: { env: NAME } or { file: /path } (secrets are never written inline)'],
  ],
  [
    'every problem at once',
    'checks:\n  - name: A\n    type: tcp\n    port: 0\n  - name: b\n    type: nope\n',
    [
      't.yaml:2:11: checks[0].name: must match [a-z0-9][a-z0-9-]*: lower case letters, digits and dashes, like hub-dns (got "A")',
      't.yaml:2:5: checks[0].host: required (a string)',
      't.yaml:4:11: checks[0].port: must be at least 1 (got 0)',
      `t.yaml:6:11: checks[1].type: unknown check type "nope" (accepted: ${types})`,
    ],
  ],
];

describe('check file validation', () => {
  it.each(INVALID)('%s', (_title, yaml, expected) => {
    expect(problemsOf(yaml)).toEqual(expected);
  });

  it('applies defaults: timing unless the check has its own, labels merged', () => {
    const problems: Problem[] = [];
    const checks = parseCheckFile(
      't.yaml',
      `defaults:\n  interval: 30s\n  timeout: 2s\n  labels: { service: hub, team: a }\nchecks:\n  - ${TCP}\n    labels: { team: b }\n  - ${TCP.replace('name: a', 'name: b')}\n    schedule: "*/5 * * * *"\n`,
      problems,
      checkTypes,
    );
    expect(problems).toEqual([]);
    expect(checks.map((c) => [c.spec.interval, c.spec.schedule, c.spec.timeout, c.spec.labels])).toEqual([
      [30_000, undefined, 2000, { service: 'hub', team: 'b' }],
      [undefined, '*/5 * * * *', 2000, { service: 'hub', team: 'a' }],
    ]);
  });
});

describe('loadChecks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a folder and rejects a name defined in two files, naming both places', async () => {
    await writeFile(join(dir, 'a.yaml'), `checks:\n  - ${TCP}\n`);
    await writeFile(join(dir, 'b.yaml'), `checks:\n  - ${TCP.replace('name: a', 'name: c')}\n  - ${TCP}\n`);
    const error = await loadChecks([dir], checkTypes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/b\.yaml:6:11: checks\[1\]\.name: duplicate check name "a" \(first defined at .*a\.yaml:2\)/);
  });

  it('reads a mounted ConfigMap folder once (skips ..data and ..TIMESTAMP)', async () => {
    const mount = join(dir, 'configmap');
    await mkdir(join(mount, '..2026_11_27_10_00_00.123'), { recursive: true });
    await writeFile(join(mount, '..2026_11_27_10_00_00.123', 'hub.yaml'), `checks:\n  - ${TCP}\n`);
    await symlink('..2026_11_27_10_00_00.123', join(mount, '..data'));
    await symlink(join('..data', 'hub.yaml'), join(mount, 'hub.yaml'));
    const checks = await loadChecks([mount], checkTypes);
    expect(checks.map((c) => c.spec.name)).toEqual(['a']);
  });

  it('reports every problem at once: a misspelled default, a bad name beside an unknown type, a duplicate of an invalid check', async () => {
    const file = join(dir, 'every.yaml');
    await writeFile(file, EVERY_PROBLEM);
    const error = await loadChecks([file], checkTypes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual(everyProblem(relative(process.cwd(), file)));
  });

  it('follows symbolic links to folders once: a loop, a second way to a folder and deep nesting are located problems', async () => {
    const root = join(dir, 'links');
    const at = (...parts: string[]) => relative(process.cwd(), join(root, ...parts));
    await mkdir(join(root, 'shared', 'sub'), { recursive: true });
    await writeFile(join(root, 'shared', 'sub', 'hub.yaml'), `checks:\n  - ${TCP}\n`);
    await symlink('..', join(root, 'shared', 'sub', 'up'));
    await symlink('.', join(root, 'shared', 'self'));
    await symlink('shared', join(root, 'again'));
    await symlink('loop-b.yaml', join(root, 'loop-a.yaml'));
    await symlink('loop-a.yaml', join(root, 'loop-b.yaml'));
    const deep = join(root, ...Array.from({ length: 18 }, (_, i) => `d${i}`));
    await mkdir(deep, { recursive: true });
    const error = await loadChecks([root], checkTypes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem)).toEqual([
      `${at(...Array.from({ length: 17 }, (_, i) => `d${i}`))}:1:1: folders nested deeper than 16 levels below ${at()} are not read`,
      `${at('loop-a.yaml')}:1:1: symbolic link loop: too many levels of symbolic links`,
      `${at('loop-b.yaml')}:1:1: symbolic link loop: too many levels of symbolic links`,
      `${at('shared', 'sub', 'up')}:1:1: symbolic link loop: leads back to ${at('shared')}`,
      `${at('shared', 'self')}:1:1: symbolic link loop: leads back to ${at('shared')}`,
      `${at('again')}:1:1: folder already read as ${at('shared')} (each folder is read once)`,
    ]);
  });

  it('names a missing path', async () => {
    await expect(loadChecks([join(dir, 'nope')], checkTypes)).rejects.toThrow(/nope:1:1: no such file or folder/);
  });
});
