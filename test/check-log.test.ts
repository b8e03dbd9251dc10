import { describe, expect, it, vi } from 'vitest';
import { CheckLog } from '../src/results/log.js';
import { memoryLogger } from './support/checks.js';

/**
 * A run's logger (results/log.ts CheckLog) writes what the pino child bound to { check, type }
 * writes, and makes that child only when a line would be written: pino's child() with redaction
 * configured was a fifth of the daemon's allocation at 100,000 scheduled checks.
 */
describe('CheckLog', () => {
  /** The lines without their time, which differs between the two loggers. */
  const untimed = (text: string) => text.split('\n').filter((line) => line !== '').map((line) => line.replace(/"time":\d+,/, ''));

  it('writes the same lines as root.child({ check, type }), credentials redacted as there', () => {
    const lazy = memoryLogger();
    const child = memoryLogger();
    const viaLazy = new CheckLog(lazy.log, 'api-health', 'http');
    const viaChild = child.log.child({ check: 'api-health', type: 'http' });
    for (const write of [viaLazy, viaChild]) {
      write.debug({ durationMs: 12.5 }, 'check passed');
      write.info({ reason: 'status', error: 'status 404, expected 401', password: 'canary-9f2c' }, 'check failed');
      write.warn('previous run still going: slot skipped');
      write.error({ err: new Error('boom') }, 'failed %s', 'twice');
      write.trace('dropped at level debug');
    }
    expect(untimed(lazy.lines())).toEqual(untimed(child.lines()));
    expect(untimed(lazy.lines())).toHaveLength(4);
    expect(lazy.lines()).not.toContain('canary-9f2c');
    expect(lazy.lines()).toContain('"check":"api-health","type":"http"');
  });

  it('makes no child for lines the level drops, and one child for all the lines of a run', () => {
    const { log } = memoryLogger();
    log.level = 'info';
    const child = vi.spyOn(log, 'child');
    const run = new CheckLog(log, 'api-health', 'http');
    run.debug({ durationMs: 1 }, 'check passed');
    run.trace('nothing');
    expect(child).not.toHaveBeenCalled();
    expect(run.isLevelEnabled('debug')).toBe(false);
    run.info('one');
    run.warn('two');
    expect(child).toHaveBeenCalledTimes(1);
  });
});
