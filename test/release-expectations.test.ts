import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { runYaml } from './support/checks.js';
import { runCli } from './support/cli.js';
import { PeerSet } from './support/peers.js';

/**
 * {release} in expectations: the gate proves that the endpoint serves the release under
 * verification, not the one before it. The host below serves whatever `served` says.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ZONE = 'driftwatch.test';

describe('{release} in the expectations of http, ingress and openapi checks', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let host: HttpPeer;
  let knot: Knot;
  let served = 'OLD';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-release-'));
    knot = await peers.start(startKnot({ zones: { [ZONE]: ['hub 300 A 127.0.0.2'] } }));
    host = await peers.start(
      startHttpPeer({
        host: '127.0.0.2',
        routes: {
          '/api/v2/openapi.json': () => ({ body: { openapi: '3.0.3', info: { title: `inter-hub ${served}`, version: served }, paths: { '/api/v2/hubs/{release}': {} } } }),
          '/version': () => ({ body: `release ${served} is live`, headers: { 'x-release': served, 'x-build': `${served}-42` } }),
        },
      }),
    );
  });
  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('run --release NEW: a host serving version OLD fails json info.version "{release}", naming both; it passes once the host serves NEW', async () => {
    served = 'OLD';
    const file = join(dir, 'gate.yaml');
    await writeFile(file, stringify({ checks: [{ name: 'hub-version', type: 'http', url: host.url('/api/v2/openapi.json'), expect: { json: { 'info.version': '{release}' } } }] }));
    const old = await runCli(['run', '--checks', file, '--release', 'NEW']);
    expect(old.code, old.stderr).toBe(1);
    expect(old.stdout).toMatch(/^FAIL\s+hub-version\s+http\s+\d+ms\s+assertion: json info\.version is "OLD", expected "NEW"$/m);
    served = 'NEW';
    const fresh = await runCli(['run', '--checks', file, '--release', 'NEW']);
    expect(fresh.code, fresh.stdout).toBe(0);
    expect(fresh.stdout).toMatch(/^PASS\s+hub-version\s/m);
  });

  it('run without --release: every field that uses {release} is a config error at file:line:col (exit 2); --only leaving them out runs', async () => {
    const file = join(dir, 'needs-release.yaml');
    await writeFile(
      file,
      [
        'checks:',
        '  - name: plain',
        '    type: http',
        `    url: ${host.url('/version')}`,
        '  - name: versioned',
        '    type: http',
        `    url: ${host.url('/version')}`,
        '    expect:',
        '      bodyContains: "release {release} is live"',
        '      headers: { x-build: { matches: "^{release}-" } }',
        '  - name: doc',
        '    type: openapi',
        `    url: ${host.url('/api/v2/openapi.json')}`,
        '    expect: { paths: ["/api/v2/hubs/{release}"], version: "{release}" }',
        '',
      ].join('\n'),
    );
    const shown = relative(ROOT, file);
    const res = await runCli(['run', '--checks', file]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([
      `${shown}:9:21: checks[1].expect.bodyContains[0]: uses {release} but no release was given (driftwatch run --release TAG)`,
      `${shown}:10:38: checks[1].expect.headers.x-build.matches: uses {release} but no release was given (driftwatch run --release TAG)`,
      `${shown}:14:59: checks[2].expect.version: uses {release} but no release was given (driftwatch run --release TAG)`,
    ]);
    const only = await runCli(['run', '--checks', file, '--only', 'plain']);
    expect(only.code, only.stderr).toBe(0);
    const empty = await runCli(['run', '--checks', file, '--release', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--release must not be empty');
  });

  it('run without --release: image tags and Helm expectations that need the release are config errors too', async () => {
    const file = join(dir, 'chain.yaml');
    await writeFile(
      file,
      [
        'checks:',
        '  - { name: roll, type: k8s-rollout, namespace: hub, resource: deployment/hub, expect: { image: registry.example/hub, tag: release } }',
        '  - { name: image, type: oci-image, image: "registry.example/coulomb/hub:{release}" }',
        '  - { name: image-kw, type: oci-image, image: "registry.example/coulomb/hub:release" }',
        '  - { name: helm, type: helm-release, namespace: hub, release: hub, expect: { appVersion: "{release}", values: { image.tag: "{release}", replicas: 2 } } }',
        '',
      ].join('\n'),
    );
    const res = await runCli(['run', '--checks', file]);
    expect(res.code).toBe(2);
    const shown = relative(ROOT, file);
    const why = 'uses {release} but no release was given (driftwatch run --release TAG)';
    expect(res.stderr.trim().split('\n')).toEqual([
      `${shown}:2:124: checks[0].expect.tag: ${why}`,
      `${shown}:3:44: checks[1].image: ${why}`,
      `${shown}:4:47: checks[2].image: ${why}`,
      `${shown}:5:91: checks[3].expect.appVersion: ${why}`,
      `${shown}:5:125: checks[3].expect.values.image.tag: ${why}`,
    ]);
    const serve = await runCli(['serve', '--checks', file, '--release', '']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('--release must not be empty');
  });

  it('serve (no --release): a check using {release} fails with reason config, naming the field', async () => {
    const run = await runYaml(`checks:\n  - { name: v, type: http, url: "${host.url('/version')}", expect: { json: { info.version: "{release}" } } }\n`);
    expect(run.result).toMatchObject({ ok: false, reason: 'config', message: 'expect.json.info.version uses {release} but no release was given (driftwatch run/serve --release TAG)' });
  });

  it('expands body texts, body patterns (the release matched literally), header values and patterns, json values at depth', async () => {
    served = '1.2.3';
    const check = (expectation: string) => `checks:\n  - { name: v, type: http, url: "${host.url('/version')}", expect: ${expectation} }\n`;
    const doc = (expectation: string) => `checks:\n  - { name: d, type: http, url: "${host.url('/api/v2/openapi.json')}", expect: ${expectation} }\n`;
    const ok = async (yaml: string, release: string) => (await runYaml(yaml, { release })).result;
    expect(await ok(check('{ bodyContains: ["release {release} is live"] }'), '1.2.3')).toMatchObject({ ok: true });
    expect(await ok(check('{ bodyContains: "release {release} is live" }'), '1.2.4')).toMatchObject({ ok: false, message: 'body does not contain "release 1.2.4 is live" (21 bytes)' });
    expect(await ok(check('{ bodyMatches: "^release {release} is" }'), '1.2.3')).toMatchObject({ ok: true });
    // Escaped: "1.2.3" as a pattern would match "1x2y3"; the release is matched literally.
    served = '1x2y3';
    expect(await ok(check('{ bodyMatches: "^release {release} is" }'), '1.2.3')).toMatchObject({ ok: false, message: 'body does not match /^release 1\\.2\\.3 is/ (21 bytes)' });
    served = '1.2.3';
    expect(await ok(check('{ headers: { x-release: "{release}", x-build: { matches: "^{release}-\\\\d+$" } } }'), '1.2.3')).toMatchObject({ ok: true });
    expect(await ok(check('{ headers: { x-release: "{release}" } }'), '1.2.0')).toMatchObject({ ok: false, message: 'header x-release is "1.2.3", expected "1.2.0"' });
    expect(await ok(doc('{ json: { info: { version: "{release}", title: "inter-hub {release}" } } }'), '1.2.3')).toMatchObject({ ok: true });
    expect(await ok(doc('{ json: { info.title: "inter-hub {release}" } }'), '2.0.0')).toMatchObject({ ok: false, message: 'json info.title is "inter-hub 1.2.3", expected "inter-hub 2.0.0"' });
  });

  it('openapi info.version and info.title; required paths keep their {braces}', async () => {
    served = 'NEW';
    const yaml = (expectation: string) => `checks:\n  - { name: o, type: openapi, url: "${host.url('/api/v2/openapi.json')}", expect: ${expectation} }\n`;
    expect((await runYaml(yaml('{ paths: ["/api/v2/hubs/{release}"], version: "{release}", title: { matches: "^inter-hub {release}$" } }'), { release: 'NEW' })).result).toMatchObject({ ok: true });
    expect((await runYaml(yaml('{ version: "{release}" }'), { release: 'NEWER' })).result).toMatchObject({ ok: false, reason: 'assertion', message: 'info.version is "NEW", expected "NEWER"' });
  });

  it('the ingress check: expectations with {release} on the ingress path and the public one', async () => {
    served = 'NEW';
    const yaml = `checks:\n  - { name: i, type: ingress, url: "http://hub.${ZONE}:${host.port}/version", ingress: [127.0.0.2], resolvers: ["${knot.address}"], expect: { bodyContains: "release {release} is live" } }\n`;
    expect((await runYaml(yaml, { release: 'NEW' })).result).toMatchObject({ ok: true, observations: { verdict: 'healthy' } });
    const stale = (await runYaml(yaml, { release: 'NEWER' })).result;
    expect(stale).toMatchObject({ ok: false, observations: { verdict: 'ingress-down' } });
    expect(stale.message).toContain('body does not contain "release NEWER is live"');
  });
});
