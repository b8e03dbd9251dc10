import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { startBlackbox, type BlackboxPeer } from './peers/blackbox.js';
import { startHttpPeer, startSilentPeer, type BrokenPeer, type HttpPeer } from './peers/https.js';
import { memoryLogger } from './support/checks.js';
import { startPrometheus, type PrometheusPeer, type PromSample } from './peers/prometheus.js';
import { PeerSet } from './support/peers.js';
import { until } from './support/until.js';

/**
 * The scrape job of blackbox_exporter's README, word for word but for the exporter's address,
 * once against blackbox and once against driftwatch (docs/blackbox.md shows the same job).
 */
function readmeJob(job: string, exporter: string, targets: readonly string[]): string {
  return `  - job_name: '${job}'
    metrics_path: /probe
    params:
      module: [http_2xx]  # Look for a HTTP 200 response.
    static_configs:
      - targets:
${targets.map((t) => `        - ${t}`).join('\n')}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${exporter}  # The blackbox exporter's real hostname:port.
`;
}

// A real Prometheus (Debian 2.42) scrapes blackbox_exporter and driftwatch with the same job.
describe('a real Prometheus scraping driftwatch with a blackbox job copied unchanged', { timeout: 120_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let http: HttpPeer;
  let silent: BrokenPeer;
  let blackbox: BlackboxPeer;
  let daemon: Daemon;
  let app: FastifyInstance;
  let prometheus: PrometheusPeer;
  let targets: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-scrape-e2e-'));
    http = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: { '/': { body: 'ok' }, '/moved': { status: 301, headers: { location: '/' } }, '/gone': { status: 410 } } }));
    silent = await peers.start(startSilentPeer('127.0.0.1'));
    targets = [http.url('/'), http.url('/moved'), http.url('/gone'), `http://127.0.0.1:${silent.port}/`];
    // blackbox's own http_2xx module: `prober: http` and nothing else.
    blackbox = await peers.start(startBlackbox('modules:\n  http_2xx:\n    prober: http\n'));
    const checks = join(dir, 'checks.yaml');
    // The module as a driftwatch check: blackbox follows redirects and allows 10 s by default.
    await writeFile(checks, `checks:\n  - { name: http-2xx, type: http, url: "${http.url('/')}", interval: 1h, timeout: 10s, followRedirects: true, allowTargets: ["http://127.0.0.1:*/*"] }\n`);
    daemon = createDaemon({ checkPaths: [checks], log: memoryLogger().log });
    await daemon.load();
    daemon.start();
    app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    const daemonAddress = new URL(await app.listen({ host: '127.0.0.1', port: 0 })).host;

    // A 2 s scrape timeout: the hanging target must answer probe_success 0 inside it.
    prometheus = await startPrometheus(`global: { scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s }\nscrape_configs:\n${readmeJob('blackbox', blackbox.address, targets)}${readmeJob('driftwatch', daemonAddress, targets)}`);
  });

  afterAll(async () => {
    await prometheus.close();
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  const query = (expr: string) => prometheus.query(expr);
  const byInstance = (samples: readonly PromSample[]): Record<string, string> => Object.fromEntries(samples.map((s): [string, string] => [s.metric.instance ?? '', s.value[1]]).sort(([a], [b]) => a.localeCompare(b)));

  it('gets up=1 for every target of both jobs and the same probe_success, the hanging target 0 within the scrape timeout', async () => {
    // Every target scraped by both jobs, and probe_success stored for all of them.
    await until('both jobs scraped', async () => ((await query('probe_success')).length === targets.length * 2 ? true : undefined), 60_000);
    const up = await query('up');
    expect(up.map((s) => [s.metric.job, s.metric.instance, s.value[1]]).filter(([, , v]) => v !== '1')).toEqual([]);
    expect(up).toHaveLength(targets.length * 2);

    const theirs = byInstance(await query('probe_success{job="blackbox"}'));
    const ours = byInstance(await query('probe_success{job="driftwatch"}'));
    expect(ours).toEqual(theirs);
    expect(theirs).toEqual({ [http.url('/')]: '1', [http.url('/gone')]: '0', [http.url('/moved')]: '1', [`http://127.0.0.1:${silent.port}/`]: '0' });

    // The hanging target's scrape ended in time: the run was cut at the header's 2 s less 0.5 s.
    const took = await query(`scrape_duration_seconds{job="driftwatch",instance="http://127.0.0.1:${silent.port}/"}`);
    expect(Number(took[0]?.value[1])).toBeLessThan(2);
    expect(byInstance(await query('probe_timeout_seconds{job="driftwatch"}'))[`http://127.0.0.1:${silent.port}/`]).toBe('1.5');
    // Status codes agree too: what a dashboard's status panel shows.
    expect(byInstance(await query('probe_http_status_code{job="driftwatch"}'))).toEqual(byInstance(await query('probe_http_status_code{job="blackbox"}')));
    expect(prometheus.log()).not.toMatch(/level=error/);
  });
});
