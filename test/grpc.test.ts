import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { moduleTarget } from '../src/checks/grpc.js';
import { ConfigError, formatProblem } from '../src/config/problem.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startGrpcPeer, type GrpcPeer } from './peers/grpc.js';
import { memoryLogger, parseChecks, runYaml } from './support/checks.js';
import { freePort } from './support/ports.js';
import { PeerSet } from './support/peers.js';

let certs: Certificates;
let serving: GrpcPeer;
let notServing: GrpcPeer;
let noHealth: GrpcPeer;
let hang: GrpcPeer;
let oversized: GrpcPeer;
let wrongName: GrpcPeer;
let expiringSoon: GrpcPeer;
let plain: GrpcPeer;
const peers = new PeerSet();

beforeAll(async () => {
  certs = await peers.start(mintCertificates());
  const tls = { cert: certs.leaf.cert, key: certs.leaf.key };
  serving = await peers.start(startGrpcPeer({ behaviour: 'serving', tls, services: { 'hub.v1.Hubs': 'SERVING', 'hub.v1.Old': 'NOT_SERVING' } }));
  notServing = await peers.start(startGrpcPeer({ behaviour: 'not-serving', tls }));
  noHealth = await peers.start(startGrpcPeer({ behaviour: 'no-health', tls }));
  hang = await peers.start(startGrpcPeer({ behaviour: 'hang', tls }));
  oversized = await peers.start(startGrpcPeer({ behaviour: 'oversized', tls }));
  wrongName = await peers.start(startGrpcPeer({ behaviour: 'serving', tls: { cert: certs.wrongName.cert, key: certs.wrongName.key } }));
  expiringSoon = await peers.start(startGrpcPeer({ behaviour: 'serving', tls: { cert: certs.expiringSoon.cert, key: certs.expiringSoon.key } }));
  plain = await peers.start(startGrpcPeer({ behaviour: 'serving' }));
});

afterAll(async () => {
  await peers.closeAll();
});

/** One grpc check for the test hostname, pinned to the peer's loopback address and trusting the test CA. */
function grpcCheck(peer: GrpcPeer, extra: Record<string, unknown> = {}): string {
  const check: Record<string, unknown> = { name: 'hub-grpc', type: 'grpc', target: `${certs.hostname}:${peer.port}`, resolve: '127.0.0.1', ca: certs.caPath, timeout: '5s', ...extra };
  return stringify({ checks: [Object.fromEntries(Object.entries(check).filter(([, value]) => value !== undefined))] });
}

describe('grpc check', () => {
  it('passes on SERVING over TLS; resolve: dials the IP and keeps the :authority and SNI of the name', async () => {
    const { result } = await runYaml(grpcCheck(serving));
    expect(result).toMatchObject({ ok: true, type: 'grpc', observations: { target: `${certs.hostname}:${serving.port}`, via: '127.0.0.1', address: '127.0.0.1', tls: true, grpcCode: 0, grpcStatus: 'OK', servingStatus: 'SERVING' } });
    expect(result.observations).toMatchObject({ certificate: { subject: certs.hostname, sans: [certs.hostname] } });
    expect(typeof result.observations.totalMs).toBe('number');
    expect(typeof result.observations.connectMs).toBe('number');
    expect(serving.authorities.at(-1)).toBe(`${certs.hostname}:${serving.port}`);
    expect(serving.servernames.at(-1)).toBe(certs.hostname);
  });

  it('asks about a named service: SERVING passes, NOT_SERVING and an unknown one fail with status', async () => {
    expect((await runYaml(grpcCheck(serving, { service: 'hub.v1.Hubs' }))).result.ok).toBe(true);
    const old = (await runYaml(grpcCheck(serving, { service: 'hub.v1.Old' }))).result;
    expect(old).toMatchObject({ ok: false, reason: 'status', message: 'health status NOT_SERVING for service "hub.v1.Old", expected SERVING' });
    const unknown = (await runYaml(grpcCheck(serving, { service: 'hub.v1.Nope' }))).result;
    expect(unknown).toMatchObject({ ok: false, reason: 'status', observations: { grpcStatus: 'NOT_FOUND' } });
    expect(unknown.message).toContain('SERVICE_UNKNOWN');
  });

  it('fails NOT_SERVING with reason status, naming the status; expect.status: NOT_SERVING passes it', async () => {
    const { result } = await runYaml(grpcCheck(notServing));
    expect(result).toMatchObject({ ok: false, reason: 'status', message: 'health status NOT_SERVING, expected SERVING', observations: { grpcStatus: 'OK', servingStatus: 'NOT_SERVING' } });
    expect((await runYaml(grpcCheck(notServing, { expect: { status: 'NOT_SERVING' } }))).result.ok).toBe(true);
  });

  it('fails a server without the health service as such (gRPC UNIMPLEMENTED)', async () => {
    const { result } = await runYaml(grpcCheck(noHealth));
    expect(result).toMatchObject({ ok: false, reason: 'status', observations: { grpcCode: 12, grpcStatus: 'UNIMPLEMENTED' } });
    expect(result.message).toBe(`${certs.hostname}:${noHealth.port} has no health service (gRPC UNIMPLEMENTED), expected SERVING`);
    expect(result.observations).not.toHaveProperty('servingStatus');
  });

  it('fails a certificate for another name with reason tls', async () => {
    const { result } = await runYaml(grpcCheck(wrongName));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(/altnames|does not match/i);
    // insecureSkipVerify lets it through
    expect((await runYaml(grpcCheck(wrongName, { ca: undefined, insecureSkipVerify: true }))).result.ok).toBe(true);
  });

  it('fails a chain from an untrusted CA with reason tls', async () => {
    const { result } = await runYaml(grpcCheck(serving, { ca: undefined }));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
  });

  it('fails a server that hangs after the handshake with reason timeout, within the timeout', async () => {
    const started = Date.now();
    const { result } = await runYaml(grpcCheck(hang, { timeout: '1s' }));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(hang.authorities.length).toBeGreaterThan(0);
  });

  it('refuses an oversized answer (cap 4 KiB) as an unmet expectation', async () => {
    const { result } = await runYaml(grpcCheck(oversized));
    expect(result).toMatchObject({ ok: false, reason: 'assertion', observations: { grpcStatus: 'RESOURCE_EXHAUSTED' } });
    expect(result.message).toContain('larger than 4096 bytes');
  });

  it('fails a closed port with reason connect', async () => {
    const port = await freePort();
    const { result } = await runYaml(grpcCheck(serving, { target: `${certs.hostname}:${port}` }));
    expect(result).toMatchObject({ ok: false, reason: 'connect', observations: { grpcStatus: 'UNAVAILABLE' } });
  });

  it('speaks plaintext with plaintext: true, and TLS by default', async () => {
    expect((await runYaml(grpcCheck(plain, { ca: undefined, plaintext: true }))).result).toMatchObject({ ok: true, observations: { tls: false, servingStatus: 'SERVING' } });
    expect((await runYaml(grpcCheck(plain, { ca: undefined }))).result).toMatchObject({ ok: false });
  });

  it('checks certMinDaysValid and maxDuration', async () => {
    const soon = (await runYaml(grpcCheck(expiringSoon, { expect: { certMinDaysValid: 14 } }))).result;
    expect(soon).toMatchObject({ ok: false, reason: 'assertion' });
    expect(soon.message).toMatch(/valid 4(\.\d)? more days .* expected at least 14/);
    expect((await runYaml(grpcCheck(serving, { expect: { certMinDaysValid: 14, maxDuration: '4s' } }))).result.ok).toBe(true);
  });

  it('closes its channel after each run: no connection stays open', async () => {
    await runYaml(grpcCheck(serving));
    await runYaml(grpcCheck(hang, { timeout: '500ms' }));
    const deadline = Date.now() + 2000;
    while ((serving.openConnections() > 0 || hang.openConnections() > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(serving.openConnections()).toBe(0);
    expect(hang.openConnections()).toBe(0);
  });

  it('sends metadata from a secret reference; the secret appears in no result or log', async () => {
    const canary = `canary-grpc-${randomBytes(6).toString('hex')}`;
    process.env.DRIFTWATCH_TEST_GRPC_TOKEN = `Bearer ${canary}`;
    try {
      const { log, lines } = memoryLogger();
      const run = await runYaml(grpcCheck(serving, { metadata: { authorization: { env: 'DRIFTWATCH_TEST_GRPC_TOKEN' }, 'x-team': 'hubs' } }), { log, debug: true });
      expect(run.result.ok).toBe(true);
      expect(serving.lastMetadata).toMatchObject({ authorization: `Bearer ${canary}`, 'x-team': 'hubs' });
      expect(JSON.stringify(run)).not.toContain(canary);
      expect(lines()).not.toContain(canary);
    } finally {
      delete process.env.DRIFTWATCH_TEST_GRPC_TOKEN;
    }
  });

  it("reads a /probe?module= target as blackbox's grpc prober does", () => {
    expect(moduleTarget('hub.example.com:50051', false)).toBe('hub.example.com:50051');
    expect(moduleTarget('https://hub.example.com:50051', false)).toBe('hub.example.com:50051');
    expect(moduleTarget('http://hub.example.com:50051/', true)).toBe('hub.example.com:50051');
    expect(moduleTarget('hub.example.com', false)).toBe('hub.example.com:443');
    expect(moduleTarget('hub.example.com', true)).toBe('hub.example.com:80');
    expect(moduleTarget('::1', false)).toBe('[::1]:443');
    expect(moduleTarget('[::1]:50051', true)).toBe('[::1]:50051');
    expect(moduleTarget('hub.example.com/path?x', false)).toBeUndefined();
  });

  it('refuses bad specs with located errors', () => {
    const problems = (yaml: string) => {
      try {
        parseChecks(yaml);
        return '';
      } catch (err) {
        return err instanceof ConfigError ? err.problems.map(formatProblem).join('\n') : String(err);
      }
    };
    expect(problems(stringify({ checks: [{ name: 'g', type: 'grpc', target: 'no-port' }] }))).toContain('expected host:port');
    expect(problems(stringify({ checks: [{ name: 'g', type: 'grpc', target: 'h:1', metadata: { authorization: 'Bearer x' } }] }))).toContain('secret reference');
    expect(problems(stringify({ checks: [{ name: 'g', type: 'grpc', target: 'h:1', plaintext: true, expect: { certMinDaysValid: 3 } }] }))).toContain('needs TLS');
    expect(problems(stringify({ checks: [{ name: 'g', type: 'grpc', target: 'h:1', expect: { status: 'HEALTHY' } }] }))).toContain('expect.status');
  });
});
