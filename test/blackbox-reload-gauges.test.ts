import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon } from '../src/daemon/daemon.js';
import { startBlackbox } from './peers/blackbox.js';
import { memoryLogger } from './support/checks.js';
import { parseExposition } from './support/exposition.js';
import { PeerSet } from './support/peers.js';

const SUCCESSFUL = 'blackbox_exporter_config_last_reload_successful';
const TIMESTAMP = 'blackbox_exporter_config_last_reload_success_timestamp_seconds';

/**
 * blackbox_exporter users alert on a failed config reload with its own gauges: driftwatch
 * exports them beside driftwatch_config_last_reload_successful, with blackbox's help texts
 * (read from a real blackbox_exporter 0.23's /metrics).
 */
describe("blackbox_exporter's reload gauges", { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  afterAll(async () => {
    await peers.closeAll();
  });

  it('follow a successful load, a failed reload (timestamp kept) and a good one again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'driftwatch-bb-reload-'));
    const file = join(dir, 'checks.yaml');
    await writeFile(file, 'checks:\n  - { name: port, type: tcp, host: 127.0.0.1, port: 1 }\n');
    const daemon = createDaemon({ checkPaths: [file], log: memoryLogger().log });
    const app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    try {
      const scrape = async () => parseExposition((await app.inject('/metrics')).body);
      const value = (families: Awaited<ReturnType<typeof scrape>>, name: string) => families.get(name)?.samples[0]?.value;
      const before = Date.now() / 1000;
      await daemon.load();
      const loaded = await scrape();
      expect(value(loaded, SUCCESSFUL)).toBe(1);
      expect(value(loaded, 'driftwatch_config_last_reload_successful')).toBe(1);
      const stamp = value(loaded, TIMESTAMP) ?? 0;
      expect(stamp).toBeGreaterThanOrEqual(Math.floor(before));
      expect(stamp).toBeLessThanOrEqual(Date.now() / 1000);

      await writeFile(file, 'checks:\n  - { name: port, type: tcp }\n');
      await daemon.reload();
      const failed = await scrape();
      expect(value(failed, SUCCESSFUL)).toBe(0);
      expect(value(failed, 'driftwatch_config_last_reload_successful')).toBe(0);
      expect(value(failed, TIMESTAMP)).toBe(stamp);

      await new Promise((resolve) => setTimeout(resolve, 20));
      await writeFile(file, 'checks:\n  - { name: port, type: tcp, host: 127.0.0.1, port: 2 }\n');
      await daemon.reload();
      const again = await scrape();
      expect(value(again, SUCCESSFUL)).toBe(1);
      expect(value(again, TIMESTAMP)).toBeGreaterThan(stamp);

      // The same help texts as blackbox_exporter's own.
      const blackbox = await peers.start(startBlackbox('modules:\n  t:\n    prober: tcp\n'));
      const theirs = parseExposition(await (await fetch(`http://${blackbox.address}/metrics`)).text());
      for (const name of [SUCCESSFUL, TIMESTAMP]) expect(again.get(name)?.help, name).toBe(theirs.get(name)?.help);
      expect(value(theirs, SUCCESSFUL)).toBe(1);
    } finally {
      await app.close();
      await daemon.stop(1000);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
