import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { RunDeadline } from '../src/runner/run-deadline.js';
import { createRunThreads, type RunThreads } from '../src/runner/run-threads.js';
import type { LoadedCheck } from '../src/checks/registry.js';
import type { Services } from '../src/checks/check-type.js';
import type { Logger } from 'pino';
import { createServices } from '../src/runner/services.js';
import { scrubForms } from '../src/results/secret-forms.js';
import type { ProbeSample, Sample } from '../src/results/run.js';
import { memoryLogger, parseChecks } from './support/checks.js';
import { startHostileDns, type HostileDns } from './peers/hostile-dns.js';

/**
 * Runs on worker threads (runner/run-threads.ts) against real loopback peers: the same results,
 * samples, history and metrics as runs on the daemon's thread, and a thread that ends mid-run
 * fails that run and no other.
 */
const CANARY = 'canary-thread-3f9a1c';
let server: Server;
let port = 0;
let dns: HostileDns;
let dir: string;
/** Requests seen, and the ones held open (never answered) until the test lets them go. */
let seen = 0;
const held: (() => void)[] = [];

beforeAll(async () => {
  process.env.DW_THREAD_TOKEN = CANARY;
  server = createServer((request, response) => {
    seen++;
    if (request.url === '/hang') {
      held.push(() => response.end());
      return;
    }
    // A target that echoes what it was sent: the credential must never come back in a result.
    response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'x-version': '6455902' });
    response.end(JSON.stringify({ version: '6455902', echo: request.headers['x-token'] ?? '', paths: ['/v2/bootstrap'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  dns = await startHostileDns({ respond: (q) => ({ answers: [{ type: 'A', name: q.name, ttl: 60, data: '127.0.0.2' }] }) });
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-threads-'));
});

afterAll(async () => {
  for (const release of held.splice(0)) release();
  server.close();
  await dns.close();
  await rm(dir, { recursive: true, force: true });
  delete process.env.DW_THREAD_TOKEN;
});

function checksYaml(): string {
  const base = `http://127.0.0.1:${port}`;
  return stringify({
    checks: [
      { name: 'hub-api', type: 'http', url: `${base}/`, headers: { 'X-Token': { env: 'DW_THREAD_TOKEN' } }, expect: { status: 200, bodyContains: '6455902', headers: { 'x-version': '6455902' } }, interval: '1h' },
      { name: 'hub-stale', type: 'http', url: `${base}/missing`, expect: { status: 200 }, interval: '1h' },
      { name: 'hub-tcp', type: 'tcp', host: '127.0.0.1', port, interval: '1h' },
      { name: 'hub-dns', type: 'dns', query: 'hub.example.test', resolvers: [dns.address], expect: { answers: ['127.0.0.2'] }, interval: '1h' },
    ],
  });
}

async function daemonWith(runThreads: number): Promise<{ daemon: Daemon; lines: () => string }> {
  const file = join(dir, `checks-${runThreads}.yaml`);
  await writeFile(file, checksYaml());
  const { log, lines } = memoryLogger();
  const daemon = createDaemon({ checkPaths: [file], log, runThreads });
  await daemon.load();
  return { daemon, lines };
}

/** What differs between two runs of the same check by nature: times, durations, and the per-phase timings. */
function steady(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(steady);
  if (typeof value === 'number') return 'number';
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'startedAt' ? 'time' : steady(item)]));
}

/** Samples as they are, but those that time a run (their values differ between any two runs). */
function untimed<T extends Sample | ProbeSample>(samples: T[]): T[] {
  return samples.filter((sample) => !sample.name.endsWith('_seconds'));
}

/** The metrics lines of these checks, without values that are times or durations. */
function series(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.includes('check="hub-'))
    .map((line) => (/duration|timestamp|_seconds/.test(line) ? line.replace(/ [^ ]+$/, ' <time>') : line))
    .sort();
}

/** The one check of this entry, parsed as the daemon parses it. */
function oneCheck(entry: Record<string, unknown>): LoadedCheck {
  const [check] = parseChecks(stringify({ checks: [entry] }));
  if (check === undefined) throw new Error('no check');
  return check;
}

/** One run thread with the services and logger its runs take. */
function oneThread(): { threads: RunThreads; services: Services; log: Logger } {
  const services = createServices({});
  const { log } = memoryLogger();
  return { threads: createRunThreads({ count: 1, services, log }), services, log };
}

/** Until the peer has seen a request more than `before`: the run is under way on its thread. */
async function untilSeen(before: number): Promise<void> {
  while (seen === before) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('run threads', () => {
  it('give the same results, samples, history and metrics as runs on the daemon thread', async () => {
    const here = await daemonWith(0);
    const threaded = await daemonWith(1);
    try {
      for (const name of ['hub-api', 'hub-stale', 'hub-tcp', 'hub-dns']) {
        for (let round = 0; round < 3; round++) {
          const [a, b] = [await here.daemon.runNow(name), await threaded.daemon.runNow(name)];
          expect(steady(b.result)).toEqual(steady(a.result));
          expect(steady(b.samples)).toEqual(steady(a.samples));
          expect(steady(b.probeSamples())).toEqual(steady(a.probeSamples()));
          // Values too, where a run does not time itself: the second and third rounds' cross as values only (sample-shapes.ts).
          expect(untimed(b.probeSamples())).toEqual(untimed(a.probeSamples()));
          expect(untimed(b.samples)).toEqual(untimed(a.samples));
        }
        expect(steady(threaded.daemon.state.get(name)?.history.list())).toEqual(steady(here.daemon.state.get(name)?.history.list()));
      }
      expect(series(await threaded.daemon.renderMetrics())).toEqual(series(await here.daemon.renderMetrics()));
      // The runs did go to the thread; and the results say what they should.
      expect(threaded.daemon.runThreads.counts()).toEqual([12]);
      expect(threaded.daemon.state.get('hub-api')?.last).toMatchObject({ ok: true });
      expect(threaded.daemon.state.get('hub-stale')?.last).toMatchObject({ ok: false, reason: 'status' });
      expect(threaded.daemon.state.get('hub-dns')?.last).toMatchObject({ ok: true });
      // The runner's own lines, written on the thread, reach the daemon's log under the check's name.
      const ran = (text: string) => text.split('\n').filter((line) => line.includes('"check ')).map((line) => JSON.parse(line) as { check?: string; msg: string; reason?: string }).map((line) => `${line.check ?? '?'} ${line.msg} ${line.reason ?? ''}`).sort();
      expect(ran(threaded.lines())).toEqual(ran(here.lines()));
      expect(ran(threaded.lines())).toContain('hub-stale check failed status');
      const outputs = JSON.stringify([threaded.daemon.state.all().map((e) => e.last), await threaded.daemon.renderMetrics(), threaded.lines()]);
      expect(outputs).not.toContain(CANARY);
    } finally {
      await here.daemon.stop(100);
      await threaded.daemon.stop(100);
    }
  });

  it('a thread that ends mid-run fails that run with a reason, and the next run gets a new thread', async () => {
    const check = oneCheck({ name: 'hang', type: 'http', url: `http://127.0.0.1:${port}/hang`, timeout: '20s' });
    const { threads, services, log } = oneThread();
    const before = seen;
    const pending = threads.run(check, check.bound, { log, services });
    await untilSeen(before);
    // The same end as a crash: the worker is gone with a run in hand.
    await threads.close();
    const run = await pending;
    expect(run.result).toMatchObject({ ok: false, reason: 'error', message: expect.stringMatching(/^the run thread stopped: it exited/) as unknown });
    expect(run.samples.length).toBeGreaterThan(0);
    const ok = oneCheck({ name: 'ok', type: 'http', url: `http://127.0.0.1:${port}/` });
    const again = await threads.run(ok, ok.bound, { log, services });
    expect(again.result).toMatchObject({ ok: true });
    expect(threads.counts()).toEqual([2]);
    await threads.close();
  });

  it('a cancelled run ends on its thread with the cancel as its message; a timeout ends there by its own timer', async () => {
    const hang = oneCheck({ name: 'hang', type: 'http', url: `http://127.0.0.1:${port}/hang`, timeout: '20s' });
    const { threads, services, log } = oneThread();
    const deadline = new RunDeadline(20_000);
    const before = seen;
    const pending = threads.run(hang, hang.bound, { log, services, deadline });
    await untilSeen(before);
    deadline.cancel(new Error('the caller went away'));
    expect((await pending).result).toMatchObject({ ok: false, reason: 'timeout', message: 'cancelled: the caller went away' });
    deadline.dispose();
    const short = new RunDeadline(20_000, 300);
    const timedOut = await threads.run(hang, hang.bound, { log, services, deadline: short });
    short.dispose();
    expect(timedOut.result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 20s' });
    expect(threads.counts()).toEqual([2]);
    await threads.close();
  });

  it('runs started in one turn cross to the thread as one message, in order: one cancelled in that turn is cancelled there', async () => {
    const hang = oneCheck({ name: 'hang', type: 'http', url: `http://127.0.0.1:${port}/hang`, timeout: '20s' });
    const ok = ['a', 'b', 'c'].map((name) => oneCheck({ name: `ok-${name}`, type: 'http', url: `http://127.0.0.1:${port}/` }));
    const { threads, services, log } = oneThread();
    await threads.warm();
    const before = threads.crossings()[0] ?? 0;
    // As a scheduler tick: several runs in one turn of the event loop, and a cancel after them.
    const deadline = new RunDeadline(20_000);
    const cancelled = threads.run(hang, hang.bound, { log, services, deadline });
    const runs = ok.map((check) => threads.run(check, check.bound, { log, services }));
    deadline.cancel(new Error('the caller went away'));
    expect((await cancelled).result).toMatchObject({ ok: false, reason: 'timeout', message: 'cancelled: the caller went away' });
    for (const run of await Promise.all(runs)) expect(run.result).toMatchObject({ ok: true });
    // Four runs and the cancel: one message.
    expect(threads.crossings()).toEqual([before + 1]);
    expect(threads.counts()).toEqual([4]);
    deadline.dispose();
    await threads.close();
  });

  it("scrubs a credential the daemon knows but the thread has not been told yet", async () => {
    const echo = oneCheck({ name: 'echo', type: 'http', url: `http://127.0.0.1:${port}/`, expect: { headers: { 'x-version': 'something-else' } } });
    const { threads, services, log } = oneThread();
    // Learned by the daemon's thread (a kube check's token, say) after the thread started: the
    // thread hears of it by message, and a result it scrubbed before that is scrubbed again here.
    await threads.run(echo, echo.bound, { log, services });
    const secret = '6455902';
    services.redactions.add(secret, () => scrubForms(secret));
    const run = await threads.run(echo, echo.bound, { log, services });
    expect(JSON.stringify(run.result)).not.toContain(secret);
    expect(JSON.stringify(run.result)).toContain('[secret]');
    await threads.close();
  });
});
