import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { startKnot, type Knot } from './peers/knot.js';
import { startPrometheus, type PrometheusPeer } from './peers/prometheus.js';
import { memoryLogger } from './support/checks.js';
import { until } from './support/until.js';

const RULES = fileURLToPath(new URL('../grafana/prometheus/driftwatch-rules.yaml', import.meta.url));

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

// A real Prometheus (Debian package) scrapes a running daemon every second and evaluates the
// shipped alert rules; a real Knot DNS server drifts under the daemon's dns check.
describe('a real Prometheus scraping a daemon that watches a drifting DNS name', { timeout: 120_000 }, () => {
  let dir: string;
  let knot: Knot;
  let daemon: Daemon;
  let app: FastifyInstance;
  let prometheus: PrometheusPeer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-prom-'));
    knot = await startKnot({ zones: { 'drift.test': ['hub 5 A 127.0.0.2'] } });
    const checks = join(dir, 'checks.yaml');
    await writeFile(
      checks,
      `checks:
  - name: hub-dns
    type: dns
    interval: 1s
    timeout: 900ms
    labels: { service: hub }
    query: hub.drift.test
    resolvers: ["${knot.address}"]
    expect: { answers: [127.0.0.2], excludes: [127.0.0.3] }
`,
    );
    daemon = createDaemon({ checkPaths: [checks], log: memoryLogger().log });
    await daemon.load();
    daemon.start();
    app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    const daemonAddress = await app.listen({ host: '127.0.0.1', port: 0 });

    prometheus = await startPrometheus(
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["${RULES}"]
scrape_configs:
  - job_name: driftwatch
    static_configs: [{ targets: ["${new URL(daemonAddress).host}"] }]
`,
    );
  });

  afterAll(async () => {
    await prometheus.close();
    await app.close();
    await daemon.stop(1000);
    await knot.close();
    await rm(dir, { recursive: true, force: true });
  });

  const query = (expr: string) => prometheus.query(expr);
  const dnsAlerts = async (): Promise<Alert[]> => {
    const body = (await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
    return body.data.alerts.filter((a) => a.labels.alertname === 'DriftwatchDNSDrift');
  };

  it('scrapes the daemon, and the DNS-drift alert goes pending when the zone drifts', async () => {
    const up = await until('the first scrape', async () => {
      const result = await query('up{job="driftwatch"}');
      return result[0]?.value[1] === '1' ? result : undefined;
    });
    expect(up).toHaveLength(1);
    await until('driftwatch_dns_drift 0', async () => ((await query('driftwatch_dns_drift{check="hub-dns"}'))[0]?.value[1] === '0' ? true : undefined));
    expect(await dnsAlerts()).toEqual([]);

    await knot.setZone('drift.test', ['hub 5 A 127.0.0.3']);
    const drift = await until('driftwatch_dns_drift 1', async () => {
      const result = await query('driftwatch_dns_drift{check="hub-dns"}');
      return result[0]?.value[1] === '1' ? result[0] : undefined;
    });
    expect(drift.metric).toMatchObject({ check: 'hub-dns', type: 'dns', service: 'hub' });
    const answers = await query('driftwatch_dns_answer_info{check="hub-dns"}');
    expect(answers.map((a) => a.metric.answer)).toEqual(['127.0.0.3']);

    const pending = await until('the alert pending', async () => {
      const alerts = await dnsAlerts();
      return alerts.length > 0 ? alerts : undefined;
    });
    // `for: 2m` has not elapsed: pending, one alert for the check, carrying its labels.
    expect(pending).toHaveLength(1);
    expect(pending[0]?.state).toBe('pending');
    expect(pending[0]?.labels).toMatchObject({ alertname: 'DriftwatchDNSDrift', check: 'hub-dns', severity: 'warning' });

    await knot.setZone('drift.test', ['hub 5 A 127.0.0.2']);
    await until('the alert cleared', async () => ((await dnsAlerts()).length === 0 ? true : undefined));
    expect(prometheus.log()).not.toMatch(/level=error/);
  });
});
