import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostileDns, type HostileDns } from './peers/hostile-dns.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { memoryLogger, parseChecks } from './support/checks.js';
import { startDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { PeerSet } from './support/peers.js';
import type { BoundCheck } from '../src/checks/registry.js';
import { RunDeadline } from '../src/runner/run-deadline.js';
import { runCheck } from '../src/runner/runner.js';
import { createServices, prepareServices } from '../src/runner/services.js';

/**
 * What a run creates of its own to keep its deadline and its cancellation: timers, abort
 * controllers and composite signals, and 'abort' listeners. Counted by wrapping the globals the
 * code calls (pass-through: everything still runs for real), between the start and the end of
 * one run, so the count holds whatever layer creates them (daemon, API route, runner, check,
 * transport). Node's own internals (node:http's socket timers) use their own bindings and are
 * not counted: they are not driftwatch's.
 */
interface Created {
  timers: number;
  controllers: number;
  composites: number;
  abortListeners: number;
  where: string[];
}

function countCreations(): { created: Created; stop(): void } {
  const created: Created = { timers: 0, controllers: 0, composites: 0, abortListeners: 0, where: [] };
  const note = (what: string) => {
    created.where.push(`${what}\n${new Error().stack?.split('\n').slice(2, 6).join('\n') ?? ''}`);
  };
  const original = { setTimeout: globalThis.setTimeout, AbortController: globalThis.AbortController, any: AbortSignal.any.bind(AbortSignal), timeout: AbortSignal.timeout.bind(AbortSignal) };
  const statics = { any: Object.getOwnPropertyDescriptor(AbortSignal, 'any'), timeout: Object.getOwnPropertyDescriptor(AbortSignal, 'timeout') };
  const countedSetTimeout = (...args: Parameters<typeof setTimeout>) => {
    created.timers++;
    note('setTimeout');
    return original.setTimeout(...args);
  };
  globalThis.setTimeout = Object.assign(countedSetTimeout, { __promisify__: original.setTimeout.__promisify__ });
  globalThis.AbortController = class extends original.AbortController {
    constructor() {
      super();
      created.controllers++;
      note('AbortController');
    }
  };
  AbortSignal.any = (signals) => {
    created.composites++;
    note('AbortSignal.any');
    return original.any(signals);
  };
  AbortSignal.timeout = (ms) => {
    created.timers++;
    created.composites++;
    note('AbortSignal.timeout');
    return original.timeout(ms);
  };
  Object.defineProperty(AbortSignal.prototype, 'addEventListener', {
    configurable: true,
    writable: true,
    value(this: AbortSignal, ...args: Parameters<EventTarget['addEventListener']>) {
      if (args[0] === 'abort') {
        created.abortListeners++;
        note('abort listener');
      }
      EventTarget.prototype.addEventListener.apply(this, args);
    },
  });
  return {
    created,
    stop() {
      globalThis.setTimeout = original.setTimeout;
      globalThis.AbortController = original.AbortController;
      if (statics.any) Object.defineProperty(AbortSignal, 'any', statics.any);
      if (statics.timeout) Object.defineProperty(AbortSignal, 'timeout', statics.timeout);
      Reflect.deleteProperty(AbortSignal.prototype, 'addEventListener');
    },
  };
}

async function counted<T>(run: () => Promise<T>): Promise<{ value: T; created: Created }> {
  const counting = countCreations();
  try {
    return { value: await run(), created: counting.created };
  } finally {
    counting.stop();
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const peers = new PeerSet();
let target: HttpPeer;
let dns: HostileDns;
let api: DaemonApi;
let base: string;

beforeAll(async () => {
  target = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/health': { body: 'ok' } } }));
  dns = await peers.start(startHostileDns({ respond: (q) => ({ answers: [{ type: 'A', name: q.name, ttl: 60, data: '127.0.0.2' }] }) }));
  api = await startDaemonApi(`checks:\n  - name: web\n    type: http\n    interval: 1h\n    timeout: 5s\n    url: ${target.url('/health')}\n`);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const address = api.app.server.address() as AddressInfo;
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await api.close();
  await peers.closeAll();
});

describe('one deadline per run', () => {
  it('a scheduled-style run (runCheck) creates one timer, and an abort signal only for a check that reads one', async () => {
    const [check] = parseChecks(`checks:\n  - name: web\n    type: http\n    timeout: 5s\n    url: ${target.url('/health')}\n`);
    if (!check) throw new Error('no check');
    const services = createServices({ lookupCheck: () => undefined });
    await prepareServices(services, [check.spec]);
    // The scheduler hands every run its shutdown signal: listened to, not copied.
    const shutdown = new AbortController();
    const { value: run, created } = await counted(() => runCheck(check.bound, { log: memoryLogger().log, services, signal: shutdown.signal }));
    expect(run.result).toMatchObject({ ok: true, observations: { status: 200 } });
    // Written as Date#toISOString writes it (the runner keeps the second's text between runs).
    expect(new Date(run.result.startedAt).toISOString()).toBe(run.result.startedAt);
    // The http transport hears the run's end through the deadline itself (RunContext.end): on
    // Node 20 an AbortSignal costs a run's worth of old-space garbage (results/end-signal.ts).
    expect({ timers: created.timers, signals: created.controllers + created.composites }, created.where.join('\n')).toEqual({ timers: 1, signals: 0 });
    // The shutdown signal's only; the transport's is on the deadline, and no race of its own.
    expect(created.abortListeners, created.where.join('\n')).toBeLessThanOrEqual(1);

    // A check whose I/O takes an AbortSignal (tcp: net and dns) gets one, made when first read.
    const [tcp] = parseChecks(`checks:\n  - name: port\n    type: tcp\n    timeout: 5s\n    host: 127.0.0.1\n    port: ${new URL(target.url('/')).port}\n`);
    if (!tcp) throw new Error('no check');
    const { value: tcpRun, created: tcpCreated } = await counted(() => runCheck(tcp.bound, { log: memoryLogger().log, services }));
    expect(tcpRun.result).toMatchObject({ ok: true });
    expect({ timers: tcpCreated.timers, signals: tcpCreated.controllers + tcpCreated.composites }, tcpCreated.where.join('\n')).toEqual({ timers: 1, signals: 1 });

    // A dns run hears its end through the deadline too: no signal, for the run or its query. Its
    // timers beyond the run's are the query's own: its limit (a silent resolver is reported as
    // such, its answer-less result kept beside the others') and the UDP resend.
    const [lookup] = parseChecks(`checks:\n  - { name: hub-dns, type: dns, timeout: 5s, query: hub.example.test, resolvers: ["${dns.address}"], expect: { answers: [127.0.0.2] } }\n`);
    if (!lookup) throw new Error('no check');
    const { value: dnsRun, created: dnsCreated } = await counted(() => runCheck(lookup.bound, { log: memoryLogger().log, services, signal: shutdown.signal }));
    expect(dnsRun.result).toMatchObject({ ok: true });
    expect({ timers: dnsCreated.timers, signals: dnsCreated.controllers + dnsCreated.composites }, dnsCreated.where.join('\n')).toEqual({ timers: 3, signals: 0 });
    expect(dnsCreated.abortListeners, dnsCreated.where.join('\n')).toBeLessThanOrEqual(1);
  });

  it('a check that ignores its signal still ends at the deadline, and a shutdown cancels a run', async () => {
    const [check] = parseChecks(`checks:\n  - name: web\n    type: http\n    timeout: 200ms\n    url: ${target.url('/health')}\n`);
    if (!check) throw new Error('no check');
    const services = createServices({ lookupCheck: () => undefined });
    // A check that never settles and never looks at its signal.
    const bound = check.bound;
    const deaf: BoundCheck = {
      spec: bound.spec,
      target: bound.target,
      run: () => new Promise<never>(() => undefined),
      emptySamples: () => bound.emptySamples(),
      emptyProbeSamples: () => bound.emptyProbeSamples(),
      retarget: (target, as) => bound.retarget(target, as),
    };
    const late = await runCheck(deaf, { log: memoryLogger().log, services });
    expect(late.result).toMatchObject({ ok: false, reason: 'timeout', message: 'timeout after 200ms' });
    const shutdown = new AbortController();
    const stopped = runCheck(deaf, { log: memoryLogger().log, services, signal: shutdown.signal });
    shutdown.abort(new Error('daemon shutting down'));
    expect((await stopped).result).toMatchObject({ ok: false, reason: 'timeout', message: 'cancelled: daemon shutting down' });
  });

  it('a /probe run creates one timer of its own, and no abort signal for an http check', async () => {
    const { value: body, created } = await counted(() => get(`${base}/probe?module=web`));
    expect(body).toMatch(/^probe_success 1$/m);
    expect({ timers: created.timers, signals: created.controllers + created.composites }, created.where.join('\n')).toEqual({ timers: 1, signals: 0 });
    // None: the caller leaving, the slot wait and the transport use the run's deadline directly.
    expect(created.abortListeners, created.where.join('\n')).toBe(0);
  });
});

describe('a deadline without an AbortSignal until one is read', () => {
  it('ends its own listeners once, and makes the AbortSignal only for a reader, aborted with the same reason', async () => {
    const { value, created } = await counted(async () => {
      const deadline = new RunDeadline(5000);
      const heard: string[] = [];
      const gone = () => heard.push('removed listener');
      deadline.addEventListener('abort', () => heard.push(`ended: ${String(deadline.reason?.message)}`), { once: true });
      deadline.addEventListener('abort', gone);
      deadline.removeEventListener('abort', gone);
      deadline.cancel('caller went away');
      deadline.cancel('again');
      const before = { aborted: deadline.aborted, cancelled: deadline.cancelled };
      deadline.dispose();
      return { deadline, heard, before };
    });
    // A run handed to a run thread reads no signal on this thread: no AbortController here.
    expect({ timers: created.timers, controllers: created.controllers }).toEqual({ timers: 1, controllers: 0 });
    expect(value.heard).toEqual(['ended: cancelled: caller went away']);
    expect(value.before).toEqual({ aborted: true, cancelled: true });
    const { signal } = value.deadline;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(value.deadline.reason);
  });

  it('a listener added after the end, or after dispose, is never called', () => {
    const ended = new RunDeadline(5000);
    ended.end(new Error('peer crashed'));
    let calls = 0;
    ended.addEventListener('abort', () => calls++);
    const disposed = new RunDeadline(5000);
    disposed.dispose();
    disposed.addEventListener('abort', () => calls++);
    disposed.cancel('late');
    expect({ calls, disposedAborted: disposed.aborted, signalAborted: disposed.signal.aborted }).toEqual({ calls: 0, disposedAborted: false, signalAborted: false });
    ended.dispose();
  });
});
