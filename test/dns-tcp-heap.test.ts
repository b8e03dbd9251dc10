import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKnot, type Knot } from './peers/knot.js';
import { PeerSet } from './support/peers.js';

/**
 * DNS over TCP must not keep its sockets: net.connect({ signal }) left an abort listener on an
 * AbortSignal.any() composite, which Node then holds for good, with the socket (about 7 KB a
 * query). A child process with --expose-gc runs queries against a real Knot over TCP (asked for,
 * and after a truncated UDP answer) through the compiled dist/ the CLI runs, and reports its heap
 * after a full collection. Bounded: a fixed count, 10 at a time, within the test's timeout.
 */
const run = promisify(execFile);
const QUERIES = 3000;
/** Old code: about 7,000 bytes a query; noise after a full GC: well under 100. */
const MAX_BYTES_PER_QUERY = 1000;

const CHILD = `
const { queryDns } = await import(process.env.DIST_QUERY);
const [host, port, name, transport, count] = process.argv.slice(1);
const batch = async (n) => {
  for (let done = 0; done < n; done += 10) {
    await Promise.all(Array.from({ length: Math.min(10, n - done) }, async () => {
      const response = await queryDns({ host, port: Number(port), name, record: 'A', transport, timeoutMs: 5000, signal: new AbortController().signal });
      if (response.transport !== 'tcp' || response.records.length === 0) throw new Error('expected an answer over tcp, got ' + JSON.stringify(response));
    }));
  }
};
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
};
await batch(300);
const before = await settle();
await batch(Number(count));
const after = await settle();
process.stdout.write(JSON.stringify({ before, after, perQuery: (after - before) / Number(count) }));
`;

let knot: Knot;
const peers = new PeerSet();
// 120 A records: about 2 KB, more than the 1232-byte EDNS payload, so Knot truncates the UDP answer.
const BIG = Array.from({ length: 120 }, (_, i) => `big 300 A 127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);

beforeAll(async () => {
  knot = await peers.start(startKnot({ zones: { 'driftwatch.test': ['hub 300 A 127.0.0.2', ...BIG] } }));
});

afterAll(async () => {
  await peers.closeAll();
});

describe('DNS over TCP heap', { timeout: 120_000 }, () => {
  it.each([
    ['tcp asked for', 'hub.driftwatch.test', 'tcp'],
    ['tcp after a truncated udp answer', 'big.driftwatch.test', 'udp'],
  ])(`stays flat over ${QUERIES} queries: %s`, async (_kind, name, transport) => {
    const dist = new URL('../dist/net/dns-query.js', import.meta.url).href;
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD, knot.host, String(knot.port), name, transport, String(QUERIES)], {
      env: { ...process.env, DIST_QUERY: dist },
      timeout: 100_000,
    });
    const heap = JSON.parse(stdout) as { before: number; after: number; perQuery: number };
    expect(heap.perQuery, `heap ${heap.before} -> ${heap.after} bytes`).toBeLessThan(MAX_BYTES_PER_QUERY);
  });
});
