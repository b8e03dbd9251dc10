/**
 * Trust round 3, item 1: an exception a client library throws inside its own socket listener
 * (nothing of the check can catch it) fails the run it came from; the process goes on. In a
 * child process, because vitest would catch the uncaught exception itself.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collect } from './support/cli.js';
import { spawn } from 'node:child_process';

const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/peer-crash.ts', import.meta.url));

describe('crash guard', () => {
  it('turns a throw from a connection listener into the run failure and keeps the process alive', async () => {
    const child = spawn(process.execPath, [TSX, SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { code, stdout, stderr } = await collect(child, 30_000);
    expect(stderr).toContain("a check's client library threw on its peer's answer");
    expect(code).toBe(0);
    const [line, alive] = stdout.trim().split('\n');
    expect(alive).toBe('alive');
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      name: 'crash',
      ok: false,
      reason: 'error',
      message: "the peer's answer made the client library fail: unknown authentication type 99",
    });
  });
});
