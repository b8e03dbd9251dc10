/**
 * The demo's check file: checks/inter-hub.yaml pointed at the incident world on loopback.
 * Written (atomically: another terminal may be running `driftwatch run` on it) into the world's
 * temp folder, and written again when DNS is repointed (see the note on the system resolver).
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INGRESS_IP, STALE_IP, type IncidentWorld } from './incident-world.js';

export const DEMO_CHECKS_FILE = 'inter-hub-demo.yaml';

/** Writes (or rewrites) the check file for the world as it is now; returns its path. */
export async function writeDemoChecks(world: IncidentWorld): Promise<string> {
  const file = join(world.dir, DEMO_CHECKS_FILE);
  await writeFile(`${file}.tmp`, renderDemoChecks(world));
  await rename(`${file}.tmp`, file);
  return file;
}

export function renderDemoChecks(world: IncidentWorld): string {
  // JSON strings are YAML strings: temp paths and URLs need no escaping rules of their own.
  const q = (text: string) => JSON.stringify(text);
  const resolvers = `[${q(world.resolver)}]`;
  const ca = q(world.caPath);
  const url = (path: string) => q(world.url(path));
  return `# The inter-hub runbook checks (checks/inter-hub.yaml), pointed at the demo world on loopback.
# Written by examples/demo-checks.ts for this run; removed when the demo stops.
#
#   public DNS (system, 1.1.1.1, 8.8.8.8)  -> the demo DNS server ${world.resolver}
#   the ingress 92.205.130.254             -> ${INGRESS_IP}
#   the stale host 92.205.62.239           -> ${STALE_IP}
#   port 443                               -> ${world.port} (unprivileged; both hosts listen on it)
#   Let's Encrypt and the system roots     -> ca: the CA minted for this run
#   intervals 1m, 30s, 1h                  -> 5s for every check, so the demo moves quickly
#
# Left out: hub-db (postgres), hub-rollout and hub-db-cluster (k8s-rollout, cnpg-cluster) and
# hub-env (k8s-secret). They need a PostgreSQL server and a Kubernetes API, which a bare
# \`npm install\` does not bring; the test suite runs them against real peers.
#
# The http and openapi checks without \`resolve:\` go through the system resolver in production,
# and a process cannot point the system resolver at a private DNS server (that takes root). Here
# they dial the address the demo DNS answers now (${world.publicAddress}), and the demo rewrites
# this file when it repoints DNS. The dns and ingress checks ask the demo DNS server themselves.
defaults:
  interval: 5s
  timeout: 5s # as long as the interval allows: a loaded CI machine is slow, loopback never is
  labels: { service: inter-hub }

checks:
  - name: hub-dns
    description: Public DNS A record of hub.coulomb.social points at the active ingress
    type: dns
    query: ${world.hostname}
    record: A
    resolvers: ${resolvers}
    expect:
      answers: [${INGRESS_IP}]
      excludes: [${STALE_IP}] # the stale host

  - name: hub-ingress-hubs
    description: v2 auth gate through public DNS and pinned to the ingress; verdict says which side is wrong
    type: ingress
    url: ${url('/api/v2/hubs')}
    ingress: [${INGRESS_IP}]
    resolvers: ${resolvers}
    ca: ${ca}
    expect: { status: [401] }

  - name: hub-ingress-widgets
    description: second bootstrap path behind the auth gate
    type: ingress
    url: ${url('/api/v2/widgets')}
    ingress: [${INGRESS_IP}]
    resolvers: ${resolvers}
    ca: ${ca}
    expect: { status: [401] }

  - name: hub-landing
    description: Public landing page names the app
    type: http
    url: ${url('/')}
    resolve: ${world.publicAddress} # what public DNS answers now
    ca: ${ca}
    expect:
      status: [2xx]
      bodyContains: inter-hub
      maxDuration: 5s

  - name: hub-hubs-gate
    type: http
    url: ${url('/api/v2/hubs')}
    resolve: ${world.publicAddress} # what public DNS answers now
    ca: ${ca}
    expect: { status: [401] }

  - name: hub-widgets-gate
    type: http
    url: ${url('/api/v2/widgets')}
    resolve: ${world.publicAddress} # what public DNS answers now
    ca: ${ca}
    expect: { status: [401] }

  - name: hub-hubs-gate-ingress
    type: http
    url: ${url('/api/v2/hubs')}
    resolve: ${INGRESS_IP}
    ca: ${ca}
    expect: { status: [401] }

  - name: hub-openapi
    description: The public OpenAPI document lists the bootstrap paths
    type: openapi
    url: ${url('/api/v2/openapi.json')}
    resolve: ${world.publicAddress} # what public DNS answers now
    ca: ${ca}
    expect:
      paths: [/api/v2/hubs, /api/v2/widgets]

  - name: hub-openapi-ingress
    type: openapi
    url: ${url('/api/v2/openapi.json')}
    resolve: ${INGRESS_IP}
    ca: ${ca}
    expect:
      paths: [/api/v2/hubs, /api/v2/widgets]

  - name: hub-tls
    description: Certificate from the demo CA (Let's Encrypt in production), valid two more weeks, covering the host
    type: tls
    host: ${world.hostname}
    port: ${world.port}
    resolve: ${INGRESS_IP}
    ca: ${ca}
    expect:
      issuer: ${q(world.issuer)}
      minDaysValid: 14
`;
}
