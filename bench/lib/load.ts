import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentileSorted } from './stats.js';

/** One load phase against one URL: N keep-alive callers, each sending its next request when the last answered. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** 200 answers whose body held the success marker (probe_success 1). */
  ok: number;
  /** Other answers: wrong status, or a probe that failed. */
  bad: number;
  /** Socket errors and timeouts. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Stop earlier after this many responses (every loop is bounded in count and time). */
  maxRequests: number;
  /** A body must contain this to count as ok. */
  marker: string;
  client: 'wrk' | 'node';
  /** Scratch dir for wrk's Lua script. */
  dir: string;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return options.client === 'wrk' ? runWrk(options) : runNodeLoad(options);
}

// wrk's Lua: count marked bodies per thread, stop a thread at its share of maxRequests, print JSON.
const WRK_SCRIPT = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  marker = args[1]
  limit = tonumber(args[2])
  ok = 0
  bad = 0
end
function response(status, headers, body)
  if status == 200 and string.find(body, marker, 1, true) then ok = ok + 1 else bad = bad + 1 end
  if ok + bad >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local okc, badc = 0, 0
  for _, t in ipairs(threads) do
    okc = okc + t:get("ok")
    badc = badc + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"ok":%d,"bad":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, okc, badc,
    e.connect + e.read + e.write + e.timeout))
end
`;

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const script = join(options.dir, 'load.lua');
  await writeFile(script, WRK_SCRIPT);
  const threads = 1;
  const args = ['-t', String(threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '10s', '-s', script, options.url, '--', options.marker, String(Math.ceil(options.maxRequests / threads))];
  const { stdout } = await promisify(execFile)('wrk', args, { timeout: (options.seconds + 30) * 1000, maxBuffer: 4 * 1024 * 1024 });
  const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line.slice(8)) as { requests: number; durationUs: number; p50Us: number; p99Us: number; maxUs: number; ok: number; bad: number; errors: number };
  const seconds = r.durationUs / 1e6;
  return { requests: r.requests, seconds, rps: r.requests / seconds, p50Ms: r.p50Us / 1000, p99Ms: r.p99Us / 1000, maxMs: r.maxUs / 1000, ok: r.ok, bad: r.bad, errors: r.errors };
}

/** The same load from Node (when wrk is missing): keep-alive agent, one loop per connection. */
async function runNodeLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let ok = 0;
  let bad = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + options.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(options.url, { agent, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          latencies.push(performance.now() - started);
          if (res.statusCode === 200 && Buffer.concat(chunks).toString('utf8').includes(options.marker)) ok++;
          else bad++;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const caller = async () => {
    while (performance.now() < deadline && ok + bad + errors < options.maxRequests) await one();
  };
  await Promise.all(Array.from({ length: options.connections }, caller));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, seconds, rps: latencies.length / seconds, p50Ms: percentileSorted(latencies, 50), p99Ms: percentileSorted(latencies, 99), maxMs: latencies.at(-1) ?? Number.NaN, ok, bad, errors };
}
