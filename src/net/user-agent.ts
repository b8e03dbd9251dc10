import { readFileSync } from 'node:fs';

let userAgent: string | undefined;

/**
 * `driftwatch/<version>`, the User-Agent of every check request (blackbox_exporter sends
 * `Blackbox Exporter/<version>`), so a target's logs and WAF rules can tell probes apart. Read
 * from package.json once, on first use.
 */
export function driftwatchUserAgent(): string {
  if (userAgent === undefined) {
    let version = '0.0.0';
    try {
      const raw: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      if (raw !== null && typeof raw === 'object' && 'version' in raw && typeof raw.version === 'string') version = raw.version;
    } catch {
      // a bundled copy without package.json still probes, as driftwatch/0.0.0
    }
    userAgent = `driftwatch/${version}`;
  }
  return userAgent;
}

/** The headers with driftwatch's User-Agent added, unless the check sets its own. */
export function withUserAgent(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const own = Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'user-agent');
  return own ? { ...headers } : { 'user-agent': driftwatchUserAgent(), ...headers };
}
