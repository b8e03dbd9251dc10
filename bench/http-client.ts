/**
 * CPU per request of the ways to make one HTTP request on a fresh connection, in this process,
 * against a node:http server in a child process on 127.0.0.1 (a 235-byte answer, as nginx serves
 * in the probe scenario). Why src/net/http-request.ts writes its requests with node:http on its
 * own socket instead of through an undici Client. Not a test.
 *
 *   npx tsx bench/http-client.ts [requests per round] [rounds]
 *
 * Modes, interleaved round by round, 16 requests at a time:
 *   node:http   http.request with agent: false (a fresh connection, no timing)
 *   undici      a new undici Client per request, request(), body read, client.destroy()
 *   driftwatch  httpRequest() from src/net/http-request.ts (fresh connection, phases timed)
 */
import { fork } from 'node:child_process';
import { request as nodeRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client, request as undiciRequest } from 'undici';
import { httpRequest } from '../src/net/http-request.js';

const REQUESTS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONCURRENCY = 16;

if (process.argv[2] === '--serve') {
  const { createServer } = await import('node:http');
  const body = 'x'.repeat(235);
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.(typeof address === 'object' && address ? address.port : 0);
  });
  process.on('disconnect', () => process.exit(0));
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => {
    child.once('message', (message) => {
      resolve(Number(message));
    });
  });
  const url = `http://127.0.0.1:${port}/small.txt`;

  const modes: Record<string, () => Promise<string>> = {
    'node:http': () =>
      new Promise((resolve, reject) => {
        const req = nodeRequest({ host: '127.0.0.1', port, path: '/small.txt', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    undici: async () => {
      const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 0, bodyTimeout: 0 });
      try {
        const res = await undiciRequest(url, { dispatcher: client });
        return await res.body.text();
      } finally {
        await client.destroy();
      }
    },
    driftwatch: async () => (await httpRequest({ url, signal: AbortSignal.timeout(5000) })).body,
  };

  const measure = async (send: () => Promise<string>, count: number): Promise<{ perSecond: number; cpuMs: number }> => {
    let started = 0;
    const worker = async () => {
      while (started < count) {
        started++;
        await send();
      }
    };
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const spent = process.cpuUsage(cpu);
    return { perSecond: (count / (performance.now() - t0)) * 1000, cpuMs: (spent.user + spent.system) / 1000 / count };
  };

  const figures = new Map<string, { perSecond: number; cpuMs: number }[]>(Object.keys(modes).map((name) => [name, []]));
  for (const send of Object.values(modes)) await measure(send, 1000);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
    for (const name of order) {
      const send = modes[name];
      if (send) figures.get(name)?.push(await measure(send, REQUESTS));
    }
  }
  child.kill();

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  console.log(`${REQUESTS} requests x ${ROUNDS} rounds, ${CONCURRENCY} at a time, fresh connection each (node ${process.version}); medians`);
  console.log('| client | req/s | CPU ms per request |\n|---|---:|---:|');
  for (const [name, runs] of figures) {
    console.log(`| ${name} | ${median(runs.map((r) => r.perSecond)).toFixed(0)} | ${median(runs.map((r) => r.cpuMs)).toFixed(3)} |`);
  }
}
