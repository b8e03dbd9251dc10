import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildApi } from '../src/api/server.js';
import { createDaemon, type Daemon } from '../src/daemon/daemon.js';
import { startBlackbox, type BlackboxPeer } from './peers/blackbox.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startGrpcPeer, type GrpcPeer } from './peers/grpc.js';
import { memoryLogger } from './support/checks.js';
import { runCli } from './support/cli.js';
import { parseExposition, type Family } from './support/exposition.js';
import { PeerSet } from './support/peers.js';

/**
 * blackbox grpc modules imported with `driftwatch import blackbox`, probed side by side with a
 * real blackbox_exporter 0.23 on the same real grpc-js servers: the same probe_success and the
 * same grpc series.
 */
describe('import blackbox: grpc modules agree with blackbox_exporter', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let report: string;
  let certs: Certificates;
  let blackbox: BlackboxPeer;
  let daemon: Daemon;
  let app: FastifyInstance;
  const grpc: Record<string, GrpcPeer> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-import-grpc-'));
    certs = await peers.start(mintCertificates());
    // blackbox dials the target's name and checks the certificate against it: a leaf for localhost.
    const leaf = await certs.mintLeaf({ names: ['localhost'], notAfter: new Date(Date.now() + 60 * 86_400_000), file: 'grpc-localhost' });
    const tls = { cert: leaf.cert, key: leaf.key };
    grpc.plainServing = await peers.start(startGrpcPeer({ behaviour: 'serving' }));
    grpc.plainNotServing = await peers.start(startGrpcPeer({ behaviour: 'not-serving' }));
    grpc.plainNoHealth = await peers.start(startGrpcPeer({ behaviour: 'no-health' }));
    grpc.tlsServing = await peers.start(startGrpcPeer({ behaviour: 'serving', tls, services: { 'hub.v1.Old': 'NOT_SERVING' } }));
    grpc.tlsNotServing = await peers.start(startGrpcPeer({ behaviour: 'not-serving', tls }));
    const config = stringify({
      modules: {
        grpc_plain: { prober: 'grpc', timeout: '5s', grpc: { preferred_ip_protocol: 'ip4' } },
        // ip4: driftwatch dials one address of the name; grpc-go tries each (localhost is ::1 too).
        grpc_tls: { prober: 'grpc', timeout: '5s', grpc: { tls: true, tls_config: { ca_file: certs.caPath }, preferred_ip_protocol: 'ip4' } },
        grpc_old_service: { prober: 'grpc', timeout: '5s', grpc: { tls: true, service: 'hub.v1.Old', tls_config: { ca_file: certs.caPath }, preferred_ip_protocol: 'ip4' } },
      },
    });
    const file = join(dir, 'blackbox.yml');
    await writeFile(file, config);
    const output = join(dir, 'imported.yaml');
    const imported = await runCli(['import', 'blackbox', file, '--output', output, '--allow-target', '127.0.0.1:*', '--allow-target', 'localhost:*']);
    expect(imported.code, imported.stderr).toBe(0);
    report = imported.stderr;
    blackbox = await peers.start(startBlackbox(config));
    daemon = createDaemon({ checkPaths: [output], log: memoryLogger().log });
    await daemon.load();
    app = buildApi({ daemon, log: memoryLogger().log, version: 'test' });
    await app.ready();
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await daemon.stop(1000);
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('translates every grpc module', () => {
    expect(report.split('\n')[0]).toMatch(/3 modules: 3 translated, 0 in part, 0 left out$/);
    expect(report).toContain('grpc_plain -> grpc-plain (grpc): translated');
  });

  it('gives the same probe_success and grpc series for SERVING, NOT_SERVING, no health service and a NOT_SERVING service', async () => {
    const cases: [string, string][] = [
      ['grpc_plain', `127.0.0.1:${grpc.plainServing?.port}`],
      ['grpc_plain', `127.0.0.1:${grpc.plainNotServing?.port}`],
      ['grpc_plain', `127.0.0.1:${grpc.plainNoHealth?.port}`],
      ['grpc_tls', `localhost:${grpc.tlsServing?.port}`],
      ['grpc_tls', `localhost:${grpc.tlsNotServing?.port}`],
      ['grpc_old_service', `localhost:${grpc.tlsServing?.port}`],
    ];
    const seen: string[] = [];
    const series = (families: Map<string, Family>, name: string) =>
      (families.get(name)?.samples ?? []).map((s) => `${name}${JSON.stringify(s.labels)} ${s.value}`).sort().join('\n');
    for (const [module, target] of cases) {
      const theirs = parseExposition((await blackbox.probe(module, target)).text);
      const res = await app.inject({ url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
      expect(res.statusCode, res.body).toBe(200);
      const ours = parseExposition(res.body);
      // Every family blackbox answers with, but the TLS version (grpc-js does not tell it); and
      // probe_timeout_seconds, which driftwatch gives every module (later blackbox versions do too).
      const names = (families: Map<string, Family>) => [...families.keys()].filter((n) => n !== 'probe_tls_version_info' && n !== 'probe_timeout_seconds').sort();
      expect(names(ours), `${module} ${target}`).toEqual(names(theirs));
      for (const name of ['probe_success', 'probe_grpc_status_code', 'probe_grpc_healthcheck_response', 'probe_grpc_ssl', 'probe_ssl_earliest_cert_expiry', 'probe_ssl_last_chain_info', 'probe_ip_protocol']) {
        seen.push(`${module} ${target} ${series(ours, name)}`);
        expect(`${module} ${target} ${series(ours, name)}`).toBe(`${module} ${target} ${series(theirs, name)}`);
        expect(ours.get(name)?.help, name).toBe(theirs.get(name)?.help);
      }
    }
    // Both outcomes occur, so agreeing means something.
    expect(seen.filter((s) => s.endsWith('probe_success{} 1')).length).toBe(2);
    expect(seen.filter((s) => s.endsWith('probe_success{} 0')).length).toBe(4);
  });
});
