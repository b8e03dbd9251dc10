import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon.js';
import { memoryLogger } from './support/checks.js';

// Canary values: if either string shows up anywhere a person or Prometheus can read, a secret leaked.
const ENV_CANARY = 'canary-env-7f3a9c1e5b';
const FILE_CANARY = 'canary-file-2d8e4b6f0a';

describe('secrets never leave the process', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let daemon: Daemon;
  let app: FastifyInstance;
  const logs = memoryLogger();

  beforeAll(async () => {
    // A target that echoes every secret it is sent: in its body, a header, and its status line.
    server = createServer((req, res) => {
      const echoed = `${req.headers.authorization ?? ''} ${String(req.headers['x-api-key'] ?? '')}`;
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'x-echo': echoed, 'content-type': 'text/plain' });
      res.end(`you sent ${echoed}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;

    dir = await mkdtemp(join(tmpdir(), 'driftwatch-secrets-'));
    const secretFile = join(dir, 'api-key');
    await writeFile(secretFile, `${FILE_CANARY}\n`);
    process.env.DRIFTWATCH_TEST_CANARY = ENV_CANARY;
    const checks = join(dir, 'checks.yaml');
    const headers = `headers: { Authorization: { env: DRIFTWATCH_TEST_CANARY }, X-Api-Key: { file: ${secretFile} } }`;
    await writeFile(
      checks,
      `defaults: { interval: 1h, timeout: 3s }
checks:
  - { name: echo-ok, type: http, url: "http://127.0.0.1:${port}/ok", ${headers}, expect: { bodyContains: nothing-like-this, headers: { x-echo: nope } } }
  - { name: echo-fail, type: http, url: "http://127.0.0.1:${port}/fail", ${headers} }
`,
    );
    daemon = createDaemon({ checkPaths: [checks], log: logs.log });
    await daemon.load();
    app = buildApi({ daemon, log: logs.log, version: 'test' });
    await app.ready();
  });

  afterAll(async () => {
    delete process.env.DRIFTWATCH_TEST_CANARY;
    await app.close();
    await daemon.stop(1000);
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    await rm(dir, { recursive: true, force: true });
  });

  it('the canaries really were sent (the test can fail)', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ok`, { headers: { authorization: ENV_CANARY } });
    expect(await res.text()).toContain(ENV_CANARY);
  });

  it('appear in no result, debug record, API answer, page, metrics or log line', async () => {
    const outputs: string[] = [];
    for (const name of ['echo-ok', 'echo-fail']) {
      const debug = await app.inject(`/probe?check=${name}&debug=true`);
      expect(debug.json<{ ok: boolean }>().ok).toBe(false);
      // The check saw the echoed secrets and quotes the header it got, scrubbed.
      if (name === 'echo-ok') expect(debug.json<{ message: string }>().message).toContain('header x-echo is "[secret] [secret]"');
      outputs.push(debug.body);
      outputs.push((await app.inject(`/probe?check=${name}&format=prometheus`)).body);
      outputs.push((await app.inject({ method: 'POST', url: `/api/v1/checks/${name}/run` })).body);
      outputs.push((await app.inject(`/api/v1/checks/${name}`)).body);
      outputs.push((await app.inject(`/checks/${name}`)).body);
    }
    outputs.push((await app.inject('/api/v1/checks')).body);
    outputs.push((await app.inject('/')).body);
    outputs.push((await app.inject('/metrics')).body);
    outputs.push(logs.lines());
    const all = outputs.join('\n');
    expect(all).not.toContain(ENV_CANARY);
    expect(all).not.toContain(FILE_CANARY);
  });

  it('shows the spec with secret references as [secret]', async () => {
    const spec = (await app.inject('/api/v1/checks/echo-ok')).json<{ spec: { headers: Record<string, string> } }>().spec;
    expect(spec.headers).toEqual({ Authorization: '[secret]', 'X-Api-Key': '[secret]' });
  });
});
