/**
 * Trust round 2, item 1: patterns from a check file run against text the target controls. In
 * V8's backtracking engine a 28-byte body against ^(a+)+$ froze the daemon for seconds (41 bytes
 * would take hours). With RE2 every pattern matches in linear time, long bodies are matched on a
 * worker thread, and /metrics keeps answering while hostile bodies are matched. Likewise a large
 * YAML OpenAPI document, which the yaml package parses at about 1.6 s per MB (and, checking
 * duplicate keys, in time quadratic in a map's size), is read on a worker thread.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchPatterns } from '../src/checks/pattern.js';
import { startServe, type ServeProcess } from './support/serve-process.js';
import { waitFor } from './support/wait-for.js';

const EVIL = `${'a'.repeat(40)}!`;
/** A YAML OpenAPI document with 20,000 paths (about 1 MB): minutes on the event loop before. */
const YAML_DOC = ['openapi: 3.0.3', 'info: { title: big, version: "1" }', 'paths:', ...Array.from({ length: 20_000 }, (_, i) => `  /p${i}:\n    get: { summary: x }`), ''].join('\n');
/** 2 MiB of words: (\w+\s?)+$ backtracks on it forever in V8; RE2 takes a few hundred ms, off the event loop. */
const BIG = `${'word '.repeat((2 * 1024 * 1024) / 5)}word!`;

describe('hostile bodies against check-file patterns', { timeout: 90_000 }, () => {
  let server: Server;
  let port = 0;
  let daemon: ServeProcess | undefined;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/openapi.yaml') response.setHeader('content-type', 'application/yaml');
      response.end(request.url === '/big' ? BIG : request.url === '/openapi.yaml' ? YAML_DOC : EVIL);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await daemon?.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('RE2 answers a pattern that would backtrack for hours at once, inline and on the worker thread', async () => {
    const signal = AbortSignal.timeout(5000);
    const t0 = performance.now();
    expect(await matchPatterns(['^(a+)+$', 'a{40}!'], EVIL, signal)).toEqual([false, true]);
    expect(await matchPatterns(['^(\\w+\\s?)+$', '!$', '(?i)WORD'], BIG, signal)).toEqual([false, true, true]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('a run whose deadline passes while the worker matches fails by its timeout, and the next match still works', async () => {
    const huge = 'abcd '.repeat((16 * 1024 * 1024) / 5);
    await expect(matchPatterns(['(a|b|c)*d{5}'], huge, AbortSignal.timeout(50))).rejects.toThrow();
    expect(await matchPatterns(['word'], BIG, AbortSignal.timeout(10_000))).toEqual([true]);
  });

  it('the daemon keeps answering /metrics within 200 ms while hostile bodies are matched, and the checks fail in time', async () => {
    daemon = await startServe(
      [
        'checks:',
        `  - { name: evil-body, type: http, url: "http://127.0.0.1:${port}/evil", interval: 5s, timeout: 5s, expect: { status: [200], bodyMatches: "^(a+)+$" } }`,
        `  - { name: big-openapi, type: openapi, url: "http://127.0.0.1:${port}/openapi.yaml", interval: 10s, timeout: 10s, expect: { paths: ["/p0", "GET /p19999", "/missing"] } }`,
        `  - { name: big-body, type: http, url: "http://127.0.0.1:${port}/big", interval: 5s, timeout: 5s, maxBodyBytes: 16777216, expect: { status: [200], bodyMatches: "^(\\\\w+\\\\s?)+$", bodyNotMatches: "(?i)WORD!" } }`,
        '',
      ].join('\n'),
    );
    const running = daemon;
    const latencies = await running.metricsLatencies(8000);
    const evil = await waitFor(() => running.lastResult('evil-body'), 'a run of evil-body');
    const big = await waitFor(() => running.lastResult('big-body'), 'a run of big-body');
    expect(evil).toMatchObject({ ok: false, reason: 'assertion', message: `body does not match /^(a+)+$/ (${EVIL.length} bytes)` });
    expect(Number(evil.durationMs)).toBeLessThan(5000);
    expect(big).toMatchObject({ ok: false, reason: 'assertion' });
    expect(String(big.message)).toContain('body does not match /^(\\w+\\s?)+$/');
    expect(String(big.message)).toContain('body matches /(?i)WORD!/, expected it not to');
    expect(Number(big.durationMs)).toBeLessThan(5000);
    const openapi = await waitFor(() => running.lastResult('big-openapi'), 'a run of big-openapi');
    expect(openapi).toMatchObject({ ok: false, reason: 'assertion', message: 'missing 1 of 3 required paths: /missing' });
    expect(latencies.length).toBeGreaterThan(20);
    expect(Math.max(...latencies)).toBeLessThan(200);
  });
});
