/**
 * The physical limit: the same requests a probe makes, issued by a minimal Node script with no
 * framework, N callers at once for a bounded time and count. HTTP opens a fresh node:http
 * connection per request (agent: false) and reads the body; DNS sends one dns-packet query per
 * request on a fresh UDP socket. Prints one JSON line (with its own CPU time and V8 heap bytes
 * allocated over the run); compiled by build.ts, run by probe-scenario.ts.
 *
 * Paced (--rate R, the scale scenario's anchor): R requests a second instead of N callers, issued
 * the way driftwatch's scheduler starts runs (together on its grid of TICK_MS, scheduler/slot.ts), after
 * --warmup seconds that are not measured.
 *
 * Args: --mode http|dns --target URL|HOST:PORT [--name NAME] --connections N --seconds S --max N [--rate R --warmup S]
 */
import { parseArgs } from 'node:util';
import { startAllocationMeter } from './alloc-meter.js';
import { queryOnce } from './dns-ping.js';
import { httpGetOnce } from './http-once.js';
import { percentileSorted } from './stats.js';
import { TICK_MS } from '../../src/scheduler/slot.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'http' },
    target: { type: 'string', default: '' },
    name: { type: 'string', default: 'bench.example' },
    connections: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    max: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '0' },
    warmup: { type: 'string', default: '0' },
  },
});

const connections = Number(values.connections);
const max = Number(values.max);
const [dnsHost = '127.0.0.1', dnsPort = '53'] = values.target.split(':');

function httpOnce(): Promise<boolean> {
  return new Promise((resolve) => {
    httpGetOnce(values.target, (status) => {
      resolve(status === 200);
    });
  });
}

async function dnsOnce(): Promise<boolean> {
  const answer = await queryOnce(dnsHost, Number(dnsPort), values.name, 'A', 5000);
  return answer?.rcode === 'NOERROR' && answer.answers > 0;
}

const once = values.mode === 'dns' ? dnsOnce : httpOnce;
const latencies: number[] = [];
let ok = 0;
let failed = 0;
const timed = async () => {
  const started = performance.now();
  if (await once()) ok++;
  else failed++;
  latencies.push(performance.now() - started);
};
const rate = Number(values.rate);
/** `rate` requests a second in ticks of TICK_MS until `until` (performance.now() ms) or `max`. */
const paced = async (until: number, limit: number) => {
  const going: Promise<void>[] = [];
  const start = performance.now();
  for (let issued = 0; performance.now() < until && issued < limit; ) {
    // What is owed by now, so a late timer does not lower the rate.
    const due = Math.min(limit, Math.floor((rate * (performance.now() - start)) / 1000));
    for (; issued < due; issued++) going.push(timed());
    await new Promise((resolve) => setTimeout(resolve, TICK_MS - ((performance.now() - start) % TICK_MS)));
  }
  await Promise.all(going);
};
if (rate > 0) {
  await paced(performance.now() + Number(values.warmup) * 1000, max);
  latencies.length = 0;
  ok = failed = 0;
}
const meter = startAllocationMeter();
const cpu = process.cpuUsage();
const t0 = performance.now();
const deadline = t0 + Number(values.seconds) * 1000;
const caller = async () => {
  while (performance.now() < deadline && ok + failed < max) await timed();
};
await (rate > 0 ? paced(deadline, max) : Promise.all(Array.from({ length: connections }, caller)));
const seconds = (performance.now() - t0) / 1000;
const spent = process.cpuUsage(cpu);
const allocatedBytes = meter.allocatedBytes();
latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentileSorted(latencies, 50),
    p99Ms: percentileSorted(latencies, 99),
    ok,
    failed,
    cpuSeconds: (spent.user + spent.system) / 1e6,
    allocatedBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
);
