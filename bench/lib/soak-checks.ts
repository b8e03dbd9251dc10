import { httpCheck, dnsCheck, type CheckLine } from './checks-file.js';
import { BENCH_ZONE } from './knot.js';
import type { SoakTargets } from './soak-targets.js';

/** How the soak's checks behave, as shares of the total. */
export const SOAK_MIX = [
  { kind: 'healthy-http', share: 0.2 },
  { kind: 'healthy-dns', share: 0.15 },
  // DNS over TCP, asked for (Knot) and after a truncated UDP answer: each run opens a socket, so a
  // socket kept after the run shows here first (the leak of issue 14.3: about 7 KB a run).
  { kind: 'tcp-dns', share: 0.1 },
  { kind: 'truncated-dns', share: 0.05 },
  { kind: 'failing-http', share: 0.1 },
  { kind: 'failing-dns', share: 0.05 },
  { kind: 'hanging-http', share: 0.05 },
  { kind: 'hanging-dns', share: 0.05 },
  { kind: 'hanging-tcp-dns', share: 0.05 },
  { kind: 'flapping-http', share: 0.1 },
  { kind: 'flapping-dns', share: 0.1 },
] as const;

export function soakChecks(count: number, nginxUrl: string, knotAddress: string, targets: SoakTargets, interval: string, timeout: string): CheckLine[] {
  const checks: CheckLine[] = [];
  const common = { interval, timeout };
  let index = 0;
  for (const { kind, share } of SOAK_MIX) {
    const n = Math.round(count * share);
    for (let i = 0; i < n; i++, index++) {
      const name = `soak-${kind}-${String(i).padStart(4, '0')}`;
      const query = `${name}.${BENCH_ZONE}`;
      switch (kind) {
        case 'healthy-http':
          checks.push(httpCheck(name, nginxUrl, common));
          break;
        case 'healthy-dns':
          checks.push(dnsCheck(name, knotAddress, query, common));
          break;
        case 'tcp-dns':
          checks.push(dnsCheck(name, knotAddress, query, { ...common, transport: 'tcp' }));
          break;
        case 'truncated-dns':
          checks.push(dnsCheck(name, targets.truncatingDns, query, common));
          break;
        case 'hanging-tcp-dns':
          checks.push(dnsCheck(name, targets.hangingTcpDns, query, { ...common, transport: 'tcp' }));
          break;
        case 'failing-http':
          checks.push(httpCheck(name, targets.closedHttp, common));
          break;
        case 'failing-dns':
          checks.push(dnsCheck(name, targets.closedDns, query, common));
          break;
        case 'hanging-http':
          checks.push(httpCheck(name, targets.hangingHttp, common));
          break;
        case 'hanging-dns':
          checks.push(dnsCheck(name, targets.hangingDns, query, common));
          break;
        case 'flapping-http':
          checks.push(httpCheck(name, targets.flappingHttp, common));
          break;
        case 'flapping-dns':
          checks.push(dnsCheck(name, targets.flappingDns, query, common));
          break;
      }
    }
  }
  return checks;
}
