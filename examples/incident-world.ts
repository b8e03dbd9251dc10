/**
 * The world of the stale-DNS incident of 2026-06-14, on loopback: an in-process DNS server
 * playing public DNS, the new deploy's ingress on 127.0.0.2 and the old, stale host on
 * 127.0.0.3, both HTTPS for hub.coulomb.social with certificates from a CA minted for this run.
 * The demo and its test start it; nothing here reaches outside 127.0.0.0/8.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintDemoCertificates } from './demo-certs.js';
import { startSite, type Page, type Site } from './demo-https.js';
import { startDnsServer, type DnsServer } from './dns-server.js';

export const HUB_HOSTNAME = 'hub.coulomb.social';
/** Plays the cluster ingress (92.205.130.254 in the runbook). */
export const INGRESS_IP = '127.0.0.2';
/** Plays the stale host public DNS still named (92.205.62.239 in the runbook). */
export const STALE_IP = '127.0.0.3';

export interface IncidentWorld {
  /** Temp folder of this run: the CA and the demo's checks; removed by close(). */
  dir: string;
  hostname: string;
  /** Both HTTPS servers listen on it: a URL names one port for every address it may reach. */
  port: number;
  /** `127.0.0.1:PORT`, as a resolvers entry. */
  resolver: string;
  caPath: string;
  /** The CA's name (the tls check's issuer). */
  issuer: string;
  /** What the demo DNS answers for the hub now. */
  readonly publicAddress: string;
  /** `https://hub.coulomb.social:PORT/path`. */
  url(path: string): string;
  /** Points the hub's A record at `address` (default: the ingress): the fix. */
  repoint(address?: string): void;
  /** Stops the servers and removes the temp folder; safe to call twice. */
  close(): Promise<void>;
}

/** Starts with DNS still pointing at the stale host: the incident. */
export async function startIncidentWorld(): Promise<IncidentWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-demo-'));
  const servers: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    // Every server closes even if one fails; the folder goes last, whatever happened.
    const results = await Promise.allSettled(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const certs = await mintDemoCertificates(dir, HUB_HOSTNAME);
    const dns: DnsServer = await startDnsServer({ records: { [HUB_HOSTNAME]: [STALE_IP] }, ttl: 5 });
    servers.push(dns);
    const [ingress, stale] = await startPair(certs.leaf);
    servers.push(ingress, stale);
    let publicAddress = STALE_IP;
    return {
      dir,
      hostname: HUB_HOSTNAME,
      port: ingress.port,
      resolver: dns.address,
      caPath: certs.caPath,
      issuer: certs.issuer,
      get publicAddress() {
        return publicAddress;
      },
      url: (path) => `https://${HUB_HOSTNAME}:${ingress.port}${path}`,
      repoint(address = INGRESS_IP) {
        dns.set(HUB_HOSTNAME, [address]);
        publicAddress = address;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The ingress and the stale host on one port; a port free on one address may be taken on the other. */
async function startPair(tls: { cert: string; key: string }): Promise<[Site, Site]> {
  for (let attempt = 1; ; attempt++) {
    const ingress = await startSite({ host: INGRESS_IP, port: 0, tls, pages: INGRESS_PAGES });
    try {
      return [ingress, await startSite({ host: STALE_IP, port: ingress.port, tls, pages: STALE_PAGES })];
    } catch (err) {
      await ingress.close();
      if (attempt >= 5) throw err;
    }
  }
}

const UNAUTHORIZED: Page = { status: 401, body: { error: 'unauthorized', message: 'a bearer token is required' } };

function openapi(version: string, paths: string[]): Page {
  const operation = { get: { responses: { '200': { description: 'ok' }, '401': { description: 'no or bad token' } } } };
  return { status: 200, body: { openapi: '3.0.3', info: { title: 'inter-hub', version }, paths: Object.fromEntries(paths.map((p) => [p, operation])) } };
}

/** The new deploy: the v2 bootstrap paths exist behind the auth gate (401 without a token). */
const INGRESS_PAGES: Record<string, Page> = {
  '/': { status: 200, body: '<!doctype html><title>inter-hub</title><h1>inter-hub</h1><p>release 6455902</p>' },
  '/api/v2/hubs': UNAUTHORIZED,
  '/api/v2/widgets': UNAUTHORIZED,
  '/api/v2/openapi.json': openapi('2.0.0', ['/api/v2/hubs', '/api/v2/widgets', '/api/v1/hubs']),
};

/**
 * The old host: it still looks like inter-hub (the landing page passes, which is why the
 * incident was confusing), but it predates the v2 bootstrap paths: 404 there, and an OpenAPI
 * document without them.
 */
const STALE_PAGES: Record<string, Page> = {
  '/': { status: 200, body: '<!doctype html><title>inter-hub</title><h1>inter-hub</h1><p>release 1f0c2e7</p>' },
  '/api/v2/openapi.json': openapi('1.4.0', ['/api/v1/hubs', '/api/v1/login']),
};
