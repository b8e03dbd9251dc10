import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from './support/cli.js';
import { createNamespace, type Namespace } from './support/netns.js';

const BIN = fileURLToPath(new URL('../bin/driftwatch.js', import.meta.url));

// A network namespace of the test's own with only loopback: every address outside 127/8 has no
// route there, which is what the shipped checks meet on a laptop or in CI. Nothing can leave it.
describe('targets without a route (a network namespace with only loopback)', { timeout: 60_000 }, () => {
  let ns: Namespace;
  let dir: string;

  beforeAll(async () => {
    ns = createNamespace('noroute');
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-netns-'));
  });
  afterAll(async () => {
    ns.delete();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails each check with a reason instead of crashing (system and direct DNS over UDP, TCP and IPv6; HTTP, TCP, TLS, ingress, openapi)', async () => {
    const file = join(dir, 'checks.yaml');
    // 198.18.0.0/15 is the benchmarking range: unroutable here, and in this namespace there is no route at all.
    await writeFile(
      file,
      `defaults: { timeout: 3s }
checks:
  - { name: dns-udp, type: dns, query: hub.example.com, resolvers: ["198.18.0.1"], expect: { answers: [198.18.0.2] } }
  - { name: dns-tcp, type: dns, query: hub.example.com, transport: tcp, resolvers: ["198.18.0.1:53"], expect: { answers: [198.18.0.2] } }
  - { name: dns-v6, type: dns, query: hub.example.com, resolvers: ["[2001:db8::1]:53"], expect: { answers: [198.18.0.2] } }
  - { name: http-pinned, type: http, url: "https://hub.example.com/", resolve: 198.18.0.1 }
  - { name: tcp-port, type: tcp, host: 198.18.0.1, port: 443 }
  - { name: tls-cert, type: tls, host: hub.example.com, resolve: 198.18.0.1 }
  - { name: ingress-gate, type: ingress, url: "https://hub.example.com/", ingress: [198.18.0.1], resolvers: ["198.18.0.3"] }
  - { name: http-public, type: http, url: "https://hub.example.com/" }
  - { name: openapi-public, type: openapi, url: "https://hub.example.com/openapi.json", expect: { paths: [/x] } }
  - { name: dns-system, type: dns, query: hub.example.com, resolvers: [system], expect: { answers: [198.18.0.2] } }
  - { name: ingress-system, type: ingress, url: "https://hub.example.com/", ingress: [198.18.0.1] }
`,
    );
    const child = ns.spawn(process.execPath, [BIN, 'run', '--checks', file, '--json']);
    const result = await collect(child, 45_000);
    expect(result.stderr).not.toMatch(/at .*\(|Error \[|uncaught/i);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as { ok: boolean; results: { name: string; ok: boolean; reason: string }[] };
    expect(parsed.results.map((r) => [r.name, r.ok])).toEqual([
      ['dns-udp', false],
      ['dns-tcp', false],
      ['dns-v6', false],
      ['http-pinned', false],
      ['tcp-port', false],
      ['tls-cert', false],
      ['ingress-gate', false],
      ['http-public', false],
      ['openapi-public', false],
      ['dns-system', false],
      ['ingress-system', false],
    ]);
    for (const r of parsed.results) expect(['connect', 'timeout', 'dns'], `${r.name}: ${r.reason}`).toContain(r.reason);
  });
});
