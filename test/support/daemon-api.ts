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

/** Not started: nothing runs on a schedule, so a test decides every run. */
export async function startDaemonApi(checksYaml: string, log: Logger = memoryLogger().log): Promise<DaemonApi> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-daemon-'));
  const file = join(dir, 'checks.yaml');
  await writeFile(file, checksYaml);
  const daemon = createDaemon({ checkPaths: [file], log });
  await daemon.load();
  const app = buildApi({ daemon, log, version: 'test' });
  await app.ready();
  return {
    daemon,
    app,
    close: async () => {
      await app.close();
      await daemon.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
