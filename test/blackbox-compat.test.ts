import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { startBlackbox, type BlackboxPeer } from './peers/blackbox.js';
import { mintCertificates, type Certificates } from './peers/certs.js';
import { startHttpPeer, startHttpsPeer, startSilentPeer, type BrokenPeer, type HttpPeer, type HttpsPeer } from './peers/https.js';
import { startKnot, type Knot } from './peers/knot.js';
import { parseExposition, seriesKey, type Family } from './support/exposition.js';
import { PeerSet } from './support/peers.js';
import { startTcpPeer } from './support/tcp-peer.js';

/*
 * Side by side: the same /probe?module=&target= to a real blackbox_exporter and to driftwatch,
 * for the same loopback http, https, dns and tcp targets. Both must answer the same series
 * (names, label names and values), the same help texts, and the same values where a value is a
 * fact rather than a measured time. What may differ is listed here, each with its reason.
 */
const EXCEPTIONS: readonly { series: RegExp; when: 'always' | 'failed'; reason: string }[] = [
  {
    series: /^probe_timeout_seconds$/,
    when: 'always',
    reason: 'driftwatch only, not a blackbox 0.23 series: the time limit the run had after X-Prometheus-Scrape-Timeout-Seconds, so a dashboard can tell a cut-off run from a slow one',
  },
  {
    series: /^probe_dns_duration_seconds\{phase="(connect|request)"\}$/,
    when: 'failed',
    reason: 'a DNS exchange that failed (port unreachable): blackbox times the UDP socket set-up and the send before the error; driftwatch reports phases of exchanges that answered only',
  },
];

/** Measured times: both sides must report one, within the probe's duration; values differ run to run. */
const TIMINGS = new Set(['probe_duration_seconds', 'probe_dns_lookup_time_seconds', 'probe_http_duration_seconds', 'probe_dns_duration_seconds']);
/** Phases that did not happen are 0 on both sides (resolve and lookup of an IP literal: blackbox times a no-op lookup, driftwatch none). */
const ZERO_WHEN_NOT_DONE = /^probe_(http|dns)_duration_seconds\{phase="(connect|tls|processing|transfer|request)"\}$/;

const SCRAPE = { accept: 'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'x-prometheus-scrape-timeout-seconds': '3' };

describe('/probe side by side with blackbox_exporter 0.23', { timeout: 60_000 }, () => {
  const peers = new PeerSet();
  let certs: Certificates;
  let http: HttpPeer;
  let http6: HttpPeer;
  let https: HttpsPeer;
  let silent: BrokenPeer;
  let tcp: Awaited<ReturnType<typeof startTcpPeer>>;
  let knot: Knot;
  let blackbox: BlackboxPeer;
  let dir: string;
  let api: DaemonApi;
  let app: FastifyInstance;

  beforeAll(async () => {
    certs = await peers.start(mintCertificates());
    const localhost = await certs.mintLeaf({ names: ['localhost'], notAfter: new Date(Date.now() + 60 * 86_400_000), file: 'localhost' });
    const routes = {
      '/': { body: 'hello world', headers: { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' } },
      '/sized': { body: 'twelve bytes', headers: { 'content-length': '12' } },
      '/redirect': { status: 302, headers: { location: '/' } },
      '/missing': { status: 404, body: 'no' },
    };
    http = await peers.start(startHttpPeer({ host: '127.0.0.1', routes }));
    http6 = await peers.start(startHttpPeer({ host: '::1', routes }));
    https = await peers.start(startHttpsPeer({ host: '127.0.0.1', tls: localhost, routes }));
    silent = await peers.start(startSilentPeer('127.0.0.1'));
    tcp = await peers.start(startTcpPeer());
    knot = await peers.start(startKnot({ zones: { 'compat.test': ['www 300 A 127.0.0.1', 'www 300 A 127.0.0.2', 'txt 300 TXT "v=spf1 -all"'] } }));
    blackbox = await peers.start(
      startBlackbox(`modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4, ip_protocol_fallback: false, tls_config: { ca_file: ${certs.caPath} } }
  http_ip6:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip6 }
  http_not_hello:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4, fail_if_body_matches_regexp: [hello] }
  tcp_connect:
    prober: tcp
    timeout: 5s
    tcp: { preferred_ip_protocol: ip4 }
  tls_connect:
    prober: tcp
    timeout: 5s
    tcp: { preferred_ip_protocol: ip4, tls: true, tls_config: { ca_file: ${certs.caPath} } }
  dns_a:
    prober: dns
    timeout: 5s
    dns: { query_name: www.compat.test, query_type: A, preferred_ip_protocol: ip4 }
  dns_soa:
    prober: dns
    timeout: 5s
    dns: { query_name: compat.test, query_type: SOA, preferred_ip_protocol: ip4 }
  dns_nxdomain:
    prober: dns
    timeout: 5s
    dns: { query_name: nope.compat.test, query_type: A, preferred_ip_protocol: ip4 }
`),
    );
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-compat-'));
    const checks = join(dir, 'checks.yaml');
    await writeFile(
      checks,
      `defaults: { interval: 1h, timeout: 5s }
checks:
  - { name: http-2xx, type: http, url: "${http.url('/')}", ca: ${certs.caPath}, followRedirects: true, ipProtocol: ip4, ipProtocolFallback: false,
      allowTargets: ["http://127.0.0.1:*/*", "https://localhost:*/*"] }
  - { name: http-ip6, type: http, url: "http://[::1]:${http6.port}/", ipProtocol: ip6, allowTargets: ["http://[::1]:*/*"] }
  - { name: http-not-hello, type: http, url: "${http.url('/')}", followRedirects: true, ipProtocol: ip4, expect: { bodyNotMatches: hello }, allowTargets: ["http://127.0.0.1:*/*"] }
  - { name: tcp-connect, type: tcp, host: 127.0.0.1, port: ${tcp.port}, ipProtocol: ip4, allowTargets: ["127.0.0.1:*"] }
  - { name: tls-connect, type: tls, host: localhost, port: ${https.port}, ca: ${certs.caPath}, ipProtocol: ip4, expect: { minDaysValid: 0 }, allowTargets: ["localhost:*"] }
  - { name: dns-a, type: dns, query: www.compat.test, record: A, resolvers: ["${knot.address}"], allowTargets: ["127.0.0.1:*"] }
  - { name: dns-soa, type: dns, query: compat.test, record: SOA, resolvers: ["${knot.address}"], allowTargets: ["127.0.0.1:*"] }
  - { name: dns-nxdomain, type: dns, query: nope.compat.test, record: A, resolvers: ["${knot.address}"], allowTargets: ["127.0.0.1:*"] }
`,
    );
    api = await loadDaemonApi([checks]);
    app = api.app;
  });

  afterAll(async () => {
    await api.close();
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  const driftwatch = async (module: string, target: string): Promise<string> => {
    const res = await app.inject({ url: `/probe?module=${module}&target=${encodeURIComponent(target)}`, headers: SCRAPE });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  /** Every difference between the two answers that the exception table does not allow. */
  const compare = async (module: string, target: string): Promise<{ differences: string[]; theirs: Map<string, Family> }> => {
    const bb = await blackbox.probe(module, target, SCRAPE);
    expect(bb.status).toBe(200);
    const theirs = parseExposition(bb.text);
    const ours = parseExposition(await driftwatch(module, target));
    const differences: string[] = [];
    const failed = theirs.get('probe_success')?.samples[0]?.value === 0;
    const excused = (key: string) => EXCEPTIONS.some((e) => e.series.test(key) && (e.when === 'always' || failed));
    const differ = (key: string, text: string) => {
      if (!excused(key)) differences.push(`${key}: ${text}`);
    };
    const flat = (families: Map<string, Family>) => new Map([...families].flatMap(([name, f]) => f.samples.map((s) => [seriesKey(name, s.labels), { name, value: s.value }] as const)));
    const theirSeries = flat(theirs);
    const ourSeries = flat(ours);
    for (const [name, family] of theirs) {
      const mine = ours.get(name);
      if (!mine) differ(name, 'missing in driftwatch');
      else if (mine.help !== family.help) differ(name, `help ${JSON.stringify(mine.help)}, blackbox ${JSON.stringify(family.help)}`);
    }
    for (const name of ours.keys()) if (!theirs.has(name)) differ(name, 'driftwatch only');
    const duration = Math.max(theirSeries.get('probe_duration_seconds')?.value ?? 0, ourSeries.get('probe_duration_seconds')?.value ?? 0);
    for (const [key, { name, value }] of theirSeries) {
      const mine = ourSeries.get(key);
      if (!mine) {
        if (ours.has(name)) differ(key, 'missing in driftwatch (labels differ)');
        continue;
      }
      if (TIMINGS.has(name)) {
        if (mine.value < 0 || mine.value > duration + 0.05) differ(key, `${mine.value}s, not within the probe's ${duration}s`);
        if (ZERO_WHEN_NOT_DONE.test(key) && (mine.value === 0) !== (value === 0)) differ(key, `${mine.value}, blackbox ${value} (one did this phase, the other not)`);
      } else if (mine.value !== value) {
        differ(key, `${mine.value}, blackbox ${value}`);
      }
    }
    for (const key of ourSeries.keys()) {
      const name = key.replace(/\{.*$/, '');
      if (!theirSeries.has(key) && theirs.has(name)) differ(key, 'driftwatch only (labels differ)');
    }
    return { differences, theirs };
  };

  const targets = (): [string, string, string][] => [
    ['http 200, chunked, Last-Modified', 'http_2xx', http.url('/')],
    ['http 200 with Content-Length', 'http_2xx', http.url('/sized')],
    ['http redirect followed', 'http_2xx', http.url('/redirect')],
    ['http 404', 'http_2xx', http.url('/missing')],
    ['http connection refused', 'http_2xx', `http://127.0.0.1:${tcp.closedPort}/`],
    ['http hanging target, cut by the scrape timeout', 'http_2xx', `http://127.0.0.1:${silent.port}/`],
    ['http body regex failing', 'http_not_hello', http.url('/')],
    ['http to an IPv6 address', 'http_ip6', `http://[::1]:${http6.port}/sized`],
    ['https through a name, verified chain', 'http_2xx', `https://localhost:${https.port}/`],
    ['https redirect', 'http_2xx', `https://localhost:${https.port}/redirect`],
    ['tcp open port', 'tcp_connect', `127.0.0.1:${tcp.port}`],
    ['tcp closed port', 'tcp_connect', `127.0.0.1:${tcp.closedPort}`],
    ['tcp with TLS', 'tls_connect', `localhost:${https.port}`],
    ['dns A, two answers', 'dns_a', knot.address],
    ['dns SOA', 'dns_soa', knot.address],
    ['dns NXDOMAIN', 'dns_nxdomain', knot.address],
    ['dns server not listening', 'dns_a', `127.0.0.1:${tcp.closedPort}`],
  ];

  it('answers the same series, help texts and values for every target', async () => {
    const report: string[] = [];
    const successes: string[] = [];
    for (const [what, module, target] of targets()) {
      const { differences, theirs } = await compare(module, target);
      for (const d of differences) report.push(`${what} (${module} ${target}): ${d}`);
      successes.push(`${what}: ${theirs.get('probe_success')?.samples[0]?.value ?? '?'}`);
    }
    expect(report).toEqual([]);
    // The cases cover both outcomes, so "same values" includes probe_success 0 and 1.
    expect(successes.filter((s) => s.endsWith(': 1')).length).toBeGreaterThan(4);
    expect(successes.filter((s) => s.endsWith(': 0')).length).toBeGreaterThan(4);
  });

  it('sends a User-Agent of its own', async () => {
    await driftwatch('http_2xx', http.url('/'));
    expect(http.requests.at(-1)?.headers['user-agent']).toMatch(/^driftwatch\/\d+\.\d+\.\d+/);
    await blackbox.probe('http_2xx', http.url('/'));
    expect(http.requests.at(-1)?.headers['user-agent']).toMatch(/^Blackbox Exporter\//);
  });

  it('keeps the exception table short and explained', () => {
    expect(EXCEPTIONS.length).toBeLessThanOrEqual(2);
    for (const exception of EXCEPTIONS) expect(exception.reason.length).toBeGreaterThan(40);
  });
});
