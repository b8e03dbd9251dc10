import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { memoryLogger } from './support/checks.js';

// A reload of many checks is prepared in steps, with the event loop turning between them, and
// swapped in at once: whatever turn a reader runs in, the state and the metrics hold the old set
// or the new one, never a mix. 5,000 checks: more than one step (2,000) of every part.

const COUNT = 5000;

/** Checks [from, to) as one file's YAML; `label` tells the two versions of a check apart. */
function checksYaml(from: number, to: number, label: (i: number) => string): string {
  const lines = ['checks:'];
  for (let i = from; i < to; i++) {
    lines.push(`  - {"name":"c-${String(i).padStart(5, '0')}","type":"tcp","host":"127.0.0.1","port":9,"interval":"1h","timeout":"1s","labels":{"v":"${label(i)}"}}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The checks as the state holds them, in order, with the label of their version. */
function stateView(daemon: Daemon): string {
  return daemon.state.all().map((entry) => `${entry.check.spec.name}=${entry.check.spec.labels.v ?? ''}`).join(' ');
}

/** The checks as /metrics shows them: one runs_total series each (every declared check has it). */
function metricsView(daemon: Daemon): string {
  const names: string[] = [];
  for (const match of daemon.series.render().matchAll(/^driftwatch_check_runs_total\{check="([^"]+)",type="tcp",v="([^"]+)",result="success"\} \d+$/gm)) names.push(`${match[1] ?? ''}=${match[2] ?? ''}`);
  return names.join(' ');
}

describe('a reload of many checks', { timeout: 120_000 }, () => {
  let dir: string;
  let daemon: Daemon;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-reload-atomic-'));
    await writeFile(join(dir, 'a.yaml'), checksYaml(0, COUNT, () => 'old'));
    // Not started: nothing runs, so runs_total stays at 0 and only the reload changes the text.
    daemon = createDaemon({ checkPaths: [dir], log: memoryLogger().log });
    await daemon.load();
  });
  afterAll(async () => {
    await daemon.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows readers the old set or the new one at every turn of the event loop, and the scheduler follows', async () => {
    const before = { state: stateView(daemon), metrics: metricsView(daemon) };
    // A fifth of the checks removed, a fifth new, a fifth changed (their label), the rest as they were.
    await writeFile(join(dir, 'a.yaml'), checksYaml(COUNT / 5, COUNT + COUNT / 5, (i) => (i >= (3 * COUNT) / 5 ? 'new' : 'old')));
    const seen = { state: new Set<string>(), metrics: new Set<string>() };
    let turns = 0;
    let swappedBeforeScheduled = 0;
    const newest = `c-${String(COUNT + COUNT / 5 - 1).padStart(5, '0')}`;
    const reloading = { done: false };
    const reload = daemon.reload().finally(() => {
      reloading.done = true;
    });
    while (!reloading.done) {
      turns++;
      const state = stateView(daemon);
      seen.state.add(state);
      seen.metrics.add(metricsView(daemon));
      // The state has the new set and the last new check has no slot yet: the swap came first.
      if (state !== before.state && daemon.scheduler.nextRunAt(newest) === undefined) swappedBeforeScheduled++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await reload).ok).toBe(true);
    const after = { state: stateView(daemon), metrics: metricsView(daemon) };
    expect(after.state).not.toBe(before.state);
    expect(after.state.split(' ')).toHaveLength(COUNT);
    expect(after.metrics).toBe(after.state);
    expect(before.metrics).toBe(before.state);
    expect([...seen.state].every((view) => view === before.state || view === after.state)).toBe(true);
    expect([...seen.metrics].every((view) => view === before.metrics || view === after.metrics)).toBe(true);
    expect(seen.state.size).toBe(2);
    expect(turns).toBeGreaterThan(10);
    expect(swappedBeforeScheduled).toBeGreaterThan(0);
    expect(daemon.scheduler.nextRunAt(newest)).toBeInstanceOf(Date);
    expect(daemon.scheduler.nextRunAt('c-00000')).toBeUndefined();
  });
});
