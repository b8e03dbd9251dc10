import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_ANSWER, BENCH_ZONE } from './knot.js';

/** One check as a YAML flow mapping (JSON is YAML too, and keeps the quoting right). */
export type CheckLine = Record<string, unknown>;

export function httpCheck(name: string, url: string, extra: CheckLine = {}): CheckLine {
  return { name, type: 'http', url, ...extra };
}

export function dnsCheck(name: string, resolver: string, query: string, extra: CheckLine = {}): CheckLine {
  return { name, type: 'dns', query, record: 'A', resolvers: [resolver], expect: { answers: [BENCH_ANSWER] }, ...extra };
}

export function tcpCheck(name: string, host: string, port: number, extra: CheckLine = {}): CheckLine {
  return { name, type: 'tcp', host, port, ...extra };
}

export async function writeChecks(file: string, checks: readonly CheckLine[]): Promise<void> {
  await writeFile(file, `checks:\n${checks.map((c) => `  - ${JSON.stringify(c)}\n`).join('')}`);
}

/** Checks a file of the scale workload holds: some 1.8 MB, well under the 8 MiB a check file may have. */
export const CHECKS_PER_FILE = 10_000;

/** The checks as a folder of files (`checks-000.yaml`, ...), as `--checks DIR` reads them; returns the folder. */
export async function writeCheckFolder(dir: string, checks: readonly CheckLine[], perFile = CHECKS_PER_FILE): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (let at = 0, file = 0; at < checks.length; at += perFile, file++) {
    await writeChecks(join(dir, `checks-${String(file).padStart(3, '0')}.yaml`), checks.slice(at, at + perFile));
  }
  return dir;
}

export type ScaleKind = 'http' | 'dns' | 'tcp';

/**
 * The scale workload, every check at `interval` (`intervalSeconds` long): by default a third each
 * HTTP against nginx, TCP connects to nginx's port and DNS against Knot (without `tcpPort`: half
 * HTTP, half DNS, as before); `mix` picks the kinds, in turn. The timeout is 5 s, or less than
 * the interval when that is shorter (a timeout may not exceed it).
 */
export function scaleChecks(count: number, nginxUrl: string, resolver: string, interval: string, tcpPort?: number, mix?: readonly ScaleKind[], intervalSeconds = 60): CheckLine[] {
  const checks: CheckLine[] = [];
  const kinds: readonly ScaleKind[] = mix ?? (tcpPort === undefined ? ['http', 'dns'] : ['http', 'dns', 'tcp']);
  const timeout = intervalSeconds > 5 ? '5s' : `${Math.floor(intervalSeconds * 900)}ms`;
  for (let i = 0; i < count; i++) {
    const name = `scale-${String(i).padStart(6, '0')}`;
    const common = { interval, timeout, labels: { service: `svc-${i % 50}` } };
    const kind = kinds[i % kinds.length];
    if (kind === 'http') checks.push(httpCheck(name, nginxUrl, common));
    else if (kind === 'dns') checks.push(dnsCheck(name, resolver, `${name}.${BENCH_ZONE}`, common));
    else checks.push(tcpCheck(name, '127.0.0.1', tcpPort ?? 0, common));
  }
  return checks;
}
