/**
 * `serve --run-threads 0` against `serve --run-threads N`: the same /probe load on both, rounds
 * interleaved (the order flips every round), medians over rounds. Not a test.
 *
 *   npx tsx bench/run-threads.ts [--threads 1] [--seconds 10] [--rounds 3] [--connections 16]
 *
 * What the threads buy is parallelism: the main thread answers HTTP and keeps state while the
 * runs happen elsewhere. CPU per probe is the whole process (every thread), from /proc.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildForBench } from './lib/build.js';
import { startChild, waitForHttp, type Child } from './lib/child.js';
import { httpCheck, writeChecks } from './lib/checks-file.js';
import { onCleanup, runBenchmark } from './lib/cleanup.js';
import { runLoad } from './lib/load.js';
import { describeMachine, machineLine } from './lib/machine.js';
import { startNginx } from './lib/nginx.js';
import { freePort } from './lib/ports.js';
import { readFileSync } from 'node:fs';
import { loadNow, sampleProcess } from './lib/proc.js';
import { fixed, median } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

await runBenchmark(async () => {
  const { values } = parseArgs({ options: { threads: { type: 'string', default: '1' }, seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' } } });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const machine = describeMachine();
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-threads-bench-'));
  onCleanup('temp dir', () => rm(dir, { recursive: true, force: true }));
  const build = await buildForBench(log);
  const nginx = await startNginx(dir);
  const file = join(dir, 'checks.yaml');
  await writeChecks(file, [httpCheck('bench-http', nginx.url(), { interval: '1h', timeout: '5s' })]);
  const start = async (threads: string): Promise<{ child: Child; url: string }> => {
    const port = await freePort();
    const child = startChild({ name: `serve --run-threads ${threads}`, command: process.execPath, args: [build.entry('bench/lib/serve-cli.ts'), 'serve', '--checks', file, '--listen', `127.0.0.1:${port}`, '--run-threads', threads], logFile: join(dir, `serve-${threads}.log`) });
    await waitForHttp(child, `http://127.0.0.1:${port}/healthz`);
    return { child, url: `http://127.0.0.1:${port}/probe?check=bench-http&format=prometheus` };
  };
  const contenders = [
    { name: 'main thread (--run-threads 0)', ...(await start('0')) },
    { name: `--run-threads ${values.threads}`, ...(await start(values.threads)) },
  ];
  const seconds = Number(values.seconds);
  const figures = new Map<string, { rps: number[]; p99: number[]; cpuUs: number[]; mainUs: number[]; load: number[] }>(contenders.map((c) => [c.name, { rps: [], p99: [], cpuUs: [], mainUs: [], load: [] }]));
  for (const contender of contenders) await runLoad({ url: contender.url, connections: 16, seconds: 2, maxRequests: 1_000_000, marker: 'probe_success 1', client: 'wrk', dir });
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      const before = sampleProcess(contender.child.pid).cpuSeconds;
      const mainBefore = mainThreadCpu(contender.child.pid);
      const load = loadNow();
      const result = await runLoad({ url: contender.url, connections: Number(values.connections), seconds, maxRequests: 1_000_000, marker: 'probe_success 1', client: 'wrk', dir });
      const cpu = sampleProcess(contender.child.pid).cpuSeconds - before;
      const main = mainThreadCpu(contender.child.pid) - mainBefore;
      const entry = figures.get(contender.name);
      entry?.mainUs.push((main / Math.max(1, result.ok)) * 1e6);
      entry?.rps.push(result.ok / result.seconds);
      entry?.p99.push(result.p99Ms);
      entry?.cpuUs.push((cpu / Math.max(1, result.ok)) * 1e6);
      entry?.load.push(load);
      log(`round ${round + 1} ${contender.name}: ${fixed(result.ok / result.seconds, 0)} probes/s, p99 ${fixed(result.p99Ms)} ms, ${fixed((cpu / Math.max(1, result.ok)) * 1e6, 0)} µs CPU/probe (${result.bad} bad, ${result.errors} errors)`);
    }
  }
  const rows = [...figures].map(([name, f]) => [name, fixed(median(f.rps), 0), fixed(median(f.p99)), fixed(median(f.cpuUs), 0), fixed(median(f.mainUs), 0), fixed(median(f.load))]);
  process.stdout.write(`\n${machineLine(machine)}\nnpx tsx bench/run-threads.ts ${process.argv.slice(2).join(' ')}\n\n${markdownTable(['serve', 'probes/s', 'p99 ms', 'CPU µs/probe (process)', 'of it on the main thread', 'load'], rows)}\n`);
  return 0;
});

/** utime + stime of the process's main thread (its task id is the pid), seconds. */
function mainThreadCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
