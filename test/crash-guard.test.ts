/**
 * Trust round 3, item 1: an exception a client library throws inside its own socket listener
 * (nothing of the check can catch it) fails the run it came from; the process goes on. In a
 * child process, because vitest would catch the uncaught exception itself.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collect } from './support/cli.js';
import { spawn } from 'node:child_process';
import { bind, checkTypes } from '../src/checks/registry.js';
import { parseCheckFile } from '../src/config/load.js';
import type { Problem } from '../src/config/problem.js';

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

  it('runs in the scope every check that reads a peer through a client library, and only those', () => {
    const file = [
      'checks:',
      '  - { name: web, type: http, url: "https://127.0.0.1/" }',
      '  - { name: port, type: tcp, host: 127.0.0.1, port: 5432 }',
      '  - { name: cert, type: tls, host: 127.0.0.1, port: 443 }',
      '  - { name: name, type: dns, query: hub.example, record: A, resolvers: [127.0.0.1], expect: { answers: [10.0.0.1] } }',
      '  - { name: pods, type: http, url: "http://hub/", endpointsFrom: { namespace: hub, service: hub } }',
      '  - { name: db, type: postgres, host: 127.0.0.1, database: app, user: app, password: { env: DB_PASSWORD } }',
      '  - { name: rpc, type: grpc, target: "127.0.0.1:50051" }',
      '',
    ].join('\n');
    const problems: Problem[] = [];
    const loaded = parseCheckFile('scope.yaml', file, problems, checkTypes);
    expect(problems).toEqual([]);
    const scoped = Object.fromEntries(loaded.map((check) => [check.spec.name, bind(check.spec).scoped]));
    expect(scoped).toEqual({ web: false, port: false, cert: false, name: false, pods: true, db: true, rpc: true });
  });
});
