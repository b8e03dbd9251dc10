import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collect, waitForLog } from './support/cli.js';
import { createNamespace, type Namespace } from './support/netns.js';

/**
 * What `npm start` runs (serve on examples/first-checks/, no --listen), in a network namespace
 * with only loopback: the daemon binds 127.0.0.1:9147, not every interface, and the example
 * checks pass with nothing but loopback. The namespace also gives the test port 9147 to itself.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/driftwatch.js', import.meta.url));
const EXAMPLE = 'examples/first-checks/';

const checksAnswer = z.object({ checks: z.array(z.object({ name: z.string(), status: z.string(), last: z.object({ message: z.string() }).optional() })) });

describe('a first run: serve with no --listen on the example checks, in a namespace with only loopback', { timeout: 120_000 }, () => {
  let ns: Namespace;

  beforeAll(() => {
    ns = createNamespace('first');
  });
  afterAll(() => {
    ns.delete();
  });

  it('listens on 127.0.0.1:9147 by default, every example check passes, and a second daemon on the same port exits 2 in one line', async () => {
    const daemon = ns.spawn(process.execPath, [BIN, 'serve', '--checks', EXAMPLE, '--log-level', 'info'], { cwd: ROOT });
    const exited = collect(daemon, 110_000);
    try {
      const serving = await waitForLog(daemon, 'driftwatch serving');
      expect(serving).toMatchObject({ address: '127.0.0.1:9147', checks: 5, auth: false });

      const deadline = Date.now() + 60_000;
      let statuses: Record<string, string> = {};
      while (Date.now() < deadline) {
        const answer = await ns.fetchText('http://127.0.0.1:9147/api/v1/checks');
        if (answer !== undefined) {
          const { checks } = checksAnswer.parse(JSON.parse(answer.body));
          statuses = Object.fromEntries(checks.map((c) => [c.name, c.status === 'ok' ? 'ok' : `${c.status}: ${c.last?.message ?? ''}`]));
          // Until all pass: a run may miss its timeout on a loaded machine and pass the next time.
          if (checks.every((c) => c.status === 'ok')) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(statuses).toEqual({ 'self-healthz': 'ok', 'self-metrics': 'ok', 'self-status-page': 'ok', 'self-port': 'ok', 'self-openapi': 'ok' });

      const second = await collect(ns.spawn(process.execPath, [BIN, 'serve', '--checks', EXAMPLE], { cwd: ROOT }), 30_000);
      expect(second.code).toBe(2);
      expect(second.stderr).toBe('driftwatch serve: cannot listen on 127.0.0.1:9147: address already in use: another process listens there (EADDRINUSE)\n');
    } finally {
      daemon.kill('SIGTERM');
    }
    expect((await exited).code).toBe(0);
  });
});
