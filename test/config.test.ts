import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_TYPES } from '../src/checks/registry.js';
import { loadChecks, parseCheckFile } from '../src/config/load.js';
import { ConfigError, formatProblem, type Problem } from '../src/config/problem.js';

function problemsOf(yaml: string): string[] {
  const problems: Problem[] = [];
  parseCheckFile('t.yaml', yaml, problems);
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
    ['t.yaml:6:5: checks[0].prot: unknown key "prot" (accepted: name, description, interval, schedule, timeout, labels, allowTargets, type, host, port, resolve, ipProtocol, ipProtocolFallback)'],
  ],
  ['wrong type of value', 'checks:\n  - name: a\n    type: tcp\n    host: x\n    port: "80"\n', ['t.yaml:5:11: checks[0].port: expected number, got "80"']],
  ['missing required key', 'checks:\n  - name: a\n    type: tcp\n    port: 80\n', ['t.yaml:2:5: checks[0].host: required (string)']],
  ['bad name', 'checks:\n  - name: Hub_DNS\n    type: tcp\n    host: x\n    port: 1\n', ['t.yaml:2:11: checks[0].name: must match [a-z0-9][a-z0-9-]* (lower case, digits, dashes) (got "Hub_DNS")']],
  ['bad duration', `checks:\n  - ${TCP}\n    interval: 5 minutes\n`, ['t.yaml:6:15: checks[0].interval: invalid duration "5 minutes" (expected a number and ms, s, m or h, like 30s)']],
  ['interval and schedule', `checks:\n  - ${TCP}\n    interval: 5m\n    schedule: "* * * * *"\n`, ['t.yaml:7:15: checks[0].schedule: give either interval or schedule, not both']],
  ['bad cron', `checks:\n  - ${TCP}\n    schedule: "99 * * * *"\n`, ['t.yaml:6:15: checks[0].schedule: invalid cron expression']],
  ['timeout over interval', `checks:\n  - ${TCP}\n    interval: 5s\n    timeout: 10s\n`, ['t.yaml:7:14: checks[0].timeout: timeout 10s exceeds interval 5s (runs would overlap and be skipped)']],
  ['YAML syntax', 'checks:\n  - name: a\n    type: tcp\n   host: x\n', ['t.yaml:4:1: YAML: Sequence item without - indicator']],
  ['duplicate YAML key', 'checks:\n  - name: a\n    name: b\n', ['t.yaml:3:5: YAML: Map keys must be unique']],
  ['empty file', '', ['t.yaml:1:1: checks: required (array)']],
  ['checks not a list', 'checks: 3\n', ['t.yaml:1:9: checks: expected array, got number 3']],
  ['unknown defaults key', 'defaults:\n  intervall: 5s\nchecks: []\n', ['t.yaml:2:3: defaults.intervall: unknown key "intervall" (accepted: interval, schedule, timeout, labels, kubeconfig, context)']],
  [
    'bad default reported once, at the default',
    `defaults:\n  interval: soon\nchecks:\n  - ${TCP}\n  - ${TCP.replace('name: a', 'name: b')}\n`,
    ['t.yaml:2:13: defaults.interval: invalid duration "soon" (expected a number and ms, s, m or h, like 30s)'],
  ],
  [
    'reserved and malformed label names',
    `checks:\n  - ${TCP}\n    labels: { check: x, "bad-key": y }\n`,
    [
      't.yaml:6:15: checks[0].labels.check: invalid key: reserved label name (reserved: check, type, location, result, reason, resolver, answer, via, phase, verdict, state, le, job, instance)',
      't.yaml:6:25: checks[0].labels.bad-key: invalid key: label names must match [a-zA-Z_][a-zA-Z0-9_]*',
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
      't.yaml:2:11: checks[0].name: must match [a-z0-9][a-z0-9-]* (lower case, digits, dashes) (got "A")',
      't.yaml:2:5: checks[0].host: required (string)',
      't.yaml:4:11: checks[0].port: Too small: expected number to be >=1 (got number 0)',
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
    const error = await loadChecks([dir]).catch((e: unknown) => e);
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
    const checks = await loadChecks([mount]);
    expect(checks.map((c) => c.spec.name)).toEqual(['a']);
  });

  it('names a missing path', async () => {
    await expect(loadChecks([join(dir, 'nope')])).rejects.toThrow(/nope:1:1: no such file or folder/);
  });
});
