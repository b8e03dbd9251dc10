import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild, waitForHttp, type Child } from './child.js';
import { freePort } from './ports.js';

export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';

export interface Blackbox {
  child: Child;
  port: number;
  version: string;
  /** /probe URL for a module and target. */
  probeUrl(module: string, target: string): string;
}

/** The modules the probe scenario compares against: the same HTTP fetch and DNS question as driftwatch's checks. */
export function blackboxConfig(dnsName: string): string {
  return [
    'modules:',
    '  http_2xx:',
    '    prober: http',
    '    timeout: 5s',
    '    http:',
    '      method: GET',
    '      preferred_ip_protocol: ip4',
    '      ip_protocol_fallback: false',
    '  dns:',
    '    prober: dns',
    '    timeout: 5s',
    '    dns:',
    `      query_name: ${dnsName}`,
    '      query_type: A',
    '      transport_protocol: udp',
    '      preferred_ip_protocol: ip4',
    '      ip_protocol_fallback: false',
    '      valid_rcodes: [NOERROR]',
    '',
  ].join('\n');
}

export async function startBlackbox(dir: string, dnsName: string): Promise<Blackbox> {
  const conf = join(dir, 'blackbox.yml');
  await writeFile(conf, blackboxConfig(dnsName));
  const port = await freePort();
  const child = startChild({
    name: 'blackbox_exporter',
    command: BLACKBOX,
    args: [`--config.file=${conf}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    logFile: join(dir, 'blackbox.log'),
  });
  await waitForHttp(child, `http://127.0.0.1:${port}/-/healthy`);
  return {
    child,
    port,
    version: blackboxVersion(),
    probeUrl: (module, target) => `http://127.0.0.1:${port}/probe?module=${module}&target=${encodeURIComponent(target)}`,
  };
}

export function blackboxVersion(): string {
  try {
    const out = execFileSync(BLACKBOX, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /version (\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
