import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApi } from '../src/api/server.js';
import { checkTypes } from '../src/checks/registry.js';
import { parseCheckFile } from '../src/config/load.js';
import { formatProblem, type Problem } from '../src/config/problem.js';
import { createDaemon } from '../src/daemon/daemon.js';
import { inMaintenance } from '../src/state/maintenance.js';
import { startHttpPeer } from './peers/https.js';
import { memoryLogger } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * Maintenance windows from check files: the cron schedule read in its explicit time zone (the
 * clock is a parameter, no sleeping), the state and metric of a failing check inside one on a
 * real daemon against a real loopback peer (results still recorded), and located config errors.
 */
const SUNDAY_3AM_BERLIN = [{ schedule: '0 3 * * SUN', duration: 3_600_000, timezone: 'Europe/Berlin' }];

describe('inMaintenance: the schedule in its time zone', () => {
  it('opens at the cron minute in Europe/Berlin and ends after its duration, on time', () => {
    // 2026-12-06 is a Sunday; Berlin is UTC+1 in December: 03:00 Berlin = 02:00 UTC.
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-12-06T01:59:59Z'))).toBe(false);
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-12-06T02:00:00Z'))).toBe(true);
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-12-06T02:59:59Z'))).toBe(true);
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-12-06T03:00:00Z'))).toBe(false);
    // Not on Monday; and 03:00 UTC on Sunday is 04:00 in Berlin: the zone is honoured.
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-12-07T02:30:00Z'))).toBe(false);
    // In summer Berlin is UTC+2: 03:00 Berlin = 01:00 UTC.
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-07-05T01:30:00Z'))).toBe(true);
    expect(inMaintenance(SUNDAY_3AM_BERLIN, Date.parse('2026-07-05T02:30:00Z'))).toBe(false);
  });

  it('a window spanning midnight, and the same schedule in UTC', () => {
    const nightly = [{ schedule: '30 23 * * *', duration: 2 * 3_600_000, timezone: 'UTC' }];
    expect(inMaintenance(nightly, Date.parse('2026-12-07T00:15:00Z'))).toBe(true);
    expect(inMaintenance(nightly, Date.parse('2026-12-07T01:30:00Z'))).toBe(false);
    expect(inMaintenance(nightly, Date.parse('2026-12-07T23:29:00Z'))).toBe(false);
  });
});

function problemsOf(yaml: string): string[] {
  const problems: Problem[] = [];
  parseCheckFile('m.yaml', yaml, problems, checkTypes);
  return problems.map(formatProblem);
}

describe('maintenance in check files', () => {
  const check = (maintenance: string) => `checks:\n  - name: hub\n    type: tcp\n    host: 127.0.0.1\n    port: 1\n    maintenance: [${maintenance}]\n`;

  it('accepts a window per check and in defaults', () => {
    expect(problemsOf(check('{ schedule: "0 3 * * SUN", duration: 1h, timezone: Europe/Berlin }'))).toEqual([]);
    expect(problemsOf('defaults:\n  maintenance: [{ schedule: "0 3 * * *", duration: 30m, timezone: UTC }]\nchecks:\n  - { name: hub, type: tcp, host: 127.0.0.1, port: 1 }\n')).toEqual([]);
  });

  it.each([
    ['a malformed cron', '{ schedule: "0 3 * *", duration: 1h, timezone: UTC }', /^m\.yaml:6:\d+: checks\[0\]\.maintenance\[0\]\.schedule: expected a cron expression of 5 fields .*got "0 3 \* \*"/],
    ['a cron with seconds', '{ schedule: "0 0 3 * * SUN", duration: 1h, timezone: UTC }', /^m\.yaml:6:\d+: checks\[0\]\.maintenance\[0\]\.schedule: expected a cron expression of 5 fields/],
    ['an unknown time zone', '{ schedule: "0 3 * * SUN", duration: 1h, timezone: Mars/Olympus }', /^m\.yaml:6:\d+: checks\[0\]\.maintenance\[0\]\.timezone: unknown time zone "Mars\/Olympus"/],
    ['no time zone', '{ schedule: "0 3 * * SUN", duration: 1h }', /^m\.yaml:6:\d+: checks\[0\]\.maintenance\[0\]\.timezone: required \(a time zone name, like Europe\/Berlin or UTC\)/],
    ['a window of two days', '{ schedule: "0 3 * * SUN", duration: 48h, timezone: UTC }', /^m\.yaml:6:\d+: checks\[0\]\.maintenance\[0\]\.duration: at most 24h/],
  ])('%s is a located error', (_what, window, expected) => {
    const problems = problemsOf(check(window));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('a bad window in defaults is reported in the defaults block', () => {
    const problems = problemsOf('defaults:\n  maintenance: [{ schedule: "0 3 * * SUN", duration: 1h, timezone: Nowhere/City }]\nchecks:\n  - { name: hub, type: tcp, host: 127.0.0.1, port: 1 }\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^m\.yaml:2:\d+: defaults\.maintenance\[0\]\.timezone: unknown time zone/);
  });
});

describe('a failing check in a maintenance window', { timeout: 60_000 }, () => {
  it('is in state maintenance, exports driftwatch_check_window{kind="maintenance"}, and still records its failures', async () => {
    const peers = new PeerSet();
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-maintenance-'));
    const service = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/down': { status: 503, body: 'maintenance' } } }));
    // Every minute opens a window of a minute: always in one. The other's opens 12 hours from now.
    const farHour = (new Date().getUTCHours() + 12) % 24;
    const checks = [
      { name: 'db-always', type: 'http', url: service.url('/down'), maintenance: [{ schedule: '* * * * *', duration: '1m', timezone: 'UTC' }] },
      { name: 'db-never', type: 'http', url: service.url('/down'), maintenance: [{ schedule: `0 ${farHour} * * *`, duration: '1h', timezone: 'UTC' }] },
    ];
    const file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ defaults: { interval: '1h', timeout: '2s' }, checks }));
    const daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    await daemon.load();
    const app = buildApi({ daemon, log: memoryLogger().log, version: '0.0.0-test' });
    try {
      for (const name of ['db-always', 'db-never']) expect((await app.inject({ method: 'POST', url: `/api/v1/checks/${name}/run` })).json()).toMatchObject({ ok: false });
      expect((await app.inject(`/api/v1/checks/db-always`)).json()).toMatchObject({ status: 'maintenance' });
      expect((await app.inject(`/api/v1/checks/db-never`)).json()).toMatchObject({ status: 'failing' });
      const text = (await app.inject('/metrics')).body;
      expect(text).toMatch(/^driftwatch_check_window\{check="db-always",kind="maintenance"\} 1$/m);
      expect(text).not.toContain('driftwatch_check_window{check="db-never"');
      expect(text).toMatch(/^driftwatch_check_failures_total\{check="db-always"[^}]*\} 1$/m);
      expect((await app.inject('/')).body).toContain('maintenance');
      expect(daemon.state.get('db-always')?.history.list()).toHaveLength(1);
    } finally {
      await app.close();
      await daemon.stop(1000);
      await peers.closeAll();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
