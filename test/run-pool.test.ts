import { describe, expect, it } from 'vitest';
import { createRunPool } from '../src/scheduler/run-pool.js';
import { memoryLogger } from './support/checks.js';

/**
 * The run pool hands every active run one shared shutdown signal (a controller per run was
 * garbage on every scheduled run): many runs listening to it at once is no leak and must not
 * make Node warn of one, and close() past its grace aborts them all.
 */
describe('run pool', () => {
  it('lets 64 runs listen to the shutdown signal without a MaxListenersExceededWarning, and aborts them all past the grace', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const pool = createRunPool(64, memoryLogger().log);
      const reasons: unknown[] = [];
      let listening = 0;
      for (let i = 0; i < 64; i++) {
        pool.submit({
          name: `c${i}`,
          run: (signal) =>
            new Promise<void>((resolve) => {
              listening++;
              signal.addEventListener('abort', () => {
                reasons.push(signal.reason);
                resolve();
              }, { once: true });
            }),
          drop: () => undefined,
        });
      }
      expect(listening).toBe(64);
      expect(pool.active).toBe(64);
      await pool.close(10);
      expect(reasons).toHaveLength(64);
      expect(reasons.every((reason) => reason instanceof Error && reason.message === 'daemon shutting down')).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
