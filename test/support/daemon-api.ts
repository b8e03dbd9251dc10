import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from '../../src/api/server.js';
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { memoryLogger } from './checks.js';

/** A daemon loaded from one check file and its API (inject(), no listening), as serve builds them; close() ends both and removes the file. */
export interface DaemonApi {
  daemon: Daemon;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Not started: nothing runs on a schedule, so a test decides every run. `token` guards the API as serve's --api-token does. */
export async function startDaemonApi(checksYaml: string, log: Logger = memoryLogger().log, options: { token?: string } = {}): Promise<DaemonApi> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-daemon-'));
  const file = join(dir, 'checks.yaml');
  await writeFile(file, checksYaml);
  const api = await loadDaemonApi([file], log, options);
  return {
    ...api,
    close: async () => {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The same over check files the test wrote itself (which it removes itself). */
export async function loadDaemonApi(checkPaths: string[], log: Logger = memoryLogger().log, options: { token?: string } = {}): Promise<DaemonApi> {
  const daemon = createDaemon({ checkPaths, log });
  await daemon.load();
  const app = buildApi({ daemon, log, version: 'test', ...(options.token !== undefined && { token: options.token }) });
  await app.ready();
  return {
    daemon,
    app,
    close: async () => {
      await app.close();
      await daemon.stop(1000);
    },
  };
}

/** The same, listening on a free loopback port, for callers that speak HTTP themselves; `base` is http://127.0.0.1:PORT. */
export async function listenDaemonApi(checksYaml: string, options: { token?: string } = {}): Promise<DaemonApi & { base: string }> {
  const api = await startDaemonApi(checksYaml, memoryLogger().log, options);
  return { ...api, base: await api.app.listen({ host: '127.0.0.1', port: 0 }) };
}

/**
 * Everything a canary must not appear in, for these checks: each one run on demand (its JSON
 * result, its blackbox-style text and its debug record), its API answer and page, then the list,
 * the status page, /metrics and the log lines. A debug run that passed is named in `passed`.
 */
export async function collectOutputs(app: FastifyInstance, names: readonly string[], logs: () => string): Promise<{ all: string; passed: string[] }> {
  const outputs: string[] = [];
  const passed: string[] = [];
  for (const name of names) {
    const debug = await app.inject(`/probe?check=${name}&debug=true`);
    if (debug.json<{ ok: boolean }>().ok) passed.push(name);
    outputs.push(debug.body);
    outputs.push((await app.inject(`/probe?check=${name}&format=prometheus`)).body);
    outputs.push((await app.inject({ method: 'POST', url: `/api/v1/checks/${name}/run` })).body);
    outputs.push((await app.inject(`/api/v1/checks/${name}`)).body);
    outputs.push((await app.inject(`/checks/${name}`)).body);
  }
  outputs.push((await app.inject('/api/v1/checks')).body, (await app.inject('/')).body, (await app.inject('/metrics')).body, logs());
  return { all: outputs.join('\n'), passed };
}
