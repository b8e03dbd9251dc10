import { writeFile } from 'node:fs/promises';
import { BENCH_ANSWER, BENCH_ZONE } from './knot.js';

/** One check as a YAML flow mapping (JSON is YAML too, and keeps the quoting right). */
export type CheckLine = Record<string, unknown>;

export function httpCheck(name: string, url: string, extra: CheckLine = {}): CheckLine {
  return { name, type: 'http', url, ...extra };
}

export function dnsCheck(name: string, resolver: string, query: string, extra: CheckLine = {}): CheckLine {
  return { name, type: 'dns', query, record: 'A', resolvers: [resolver], expect: { answers: [BENCH_ANSWER] }, ...extra };
}

export async function writeChecks(file: string, checks: readonly CheckLine[]): Promise<void> {
  await writeFile(file, `checks:\n${checks.map((c) => `  - ${JSON.stringify(c)}\n`).join('')}`);
}

/** The scale workload: half HTTP against nginx, half DNS against Knot, every check at `interval`. */
export function scaleChecks(count: number, nginxUrl: string, resolver: string, interval: string): CheckLine[] {
  const checks: CheckLine[] = [];
  for (let i = 0; i < count; i++) {
    const name = `scale-${String(i).padStart(5, '0')}`;
    const common = { interval, timeout: '5s', labels: { service: `svc-${i % 50}` } };
    checks.push(i % 2 === 0 ? httpCheck(name, nginxUrl, common) : dnsCheck(name, resolver, `${name}.${BENCH_ZONE}`, common));
  }
  return checks;
}
