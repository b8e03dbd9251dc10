/**
 * How the demo tells its story on the terminal: what runs where, what each check says, where
 * to look. Plain text; colour only on a terminal that wants it (NO_COLOR, pipes and CI get none).
 */
import type { Result } from '../src/results/result.js';
import { INGRESS_IP, STALE_IP, type IncidentWorld } from './incident-world.js';

const colour = process.stdout.isTTY && process.env.NO_COLOR === undefined;
const paint = (code: number) => (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
const red = paint(31);
const green = paint(32);

const WIDTH = 100;

export function say(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Word-wraps `text` to WIDTH columns, every line indented by `indent` spaces. */
export function wrap(text: string, indent: number): string {
  return hang('', 0, text, indent);
}

/**
 * `lead` (which may hold colour codes, so its visible width is given), then `text` word-wrapped
 * to WIDTH columns, its further lines indented by `indent` spaces.
 */
function hang(lead: string, leadWidth: number, text: string, indent: number): string {
  const lines: string[] = [];
  let line = lead;
  let width = leadWidth;
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && width + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
      width = indent + word.length;
    } else {
      const gap = empty && leadWidth === 0 ? ' '.repeat(indent) : empty ? '' : ' ';
      line += gap + word;
      width += gap.length + word.length;
    }
    empty = false;
  }
  return [...lines, line].join('\n');
}

/**
 * What runs where. With `once` all of it is gone a moment after the story is told, so it names
 * addresses without ports and says "temp folder" instead of giving URLs and paths to open.
 */
export function intro(world: IncidentWorld, daemonUrl: string, checksFile: string, once: boolean): string[] {
  const row = (what: string, where: string, why: string) => {
    const head = `  ${what.padEnd(13)} ${where.padEnd(26)}`;
    return head.length + 1 + why.length <= WIDTH ? `${head} ${dim(why)}` : `${head.trimEnd()}\n${' '.repeat(16)}${dim(why)}`;
  };
  const here = once
    ? 'Here, on this machine, for the few seconds of --once (it all stops, and its temp folder is removed, once the story is told):'
    : 'Here, on this machine:';
  return [
    bold('driftwatch demo: the stale-DNS incident of 2026-06-14, replayed on loopback'),
    '',
    wrap(
      'The runbook: the deploy was healthy in the cluster (forced to the ingress, /api/v2/hubs answered 401), ' +
        `but public DNS still sent hub.coulomb.social to an older host (404, OpenAPI without the bootstrap paths). ${here}`,
      0,
    ),
    '',
    row('DNS server', once ? '127.0.0.1, udp+tcp' : `${world.resolver} udp+tcp`, `plays public DNS: ${world.hostname} A ${world.publicAddress}`),
    row('ingress', once ? `${INGRESS_IP}, https` : `https://${INGRESS_IP}:${world.port}`, 'the new deploy: v2 paths answer 401, OpenAPI lists them'),
    row('stale host', once ? `${STALE_IP}, https` : `https://${STALE_IP}:${world.port}`, 'the old host: v2 paths answer 404, older OpenAPI'),
    row('certificates', once ? 'temp folder' : world.caPath, `the CA of this run; both hosts serve ${world.hostname} from it`),
    row('checks', once ? 'temp folder' : checksFile, 'checks/inter-hub.yaml pointed at this world'),
    row('driftwatch', once ? '127.0.0.1, http' : daemonUrl, 'createDaemon + buildApi, every check every 5s'),
    '',
  ];
}

/** The verdict and diagnosis of an ingress result, or undefined for other check types. */
export function verdictOf(result: Result): { verdict: string; diagnosis: string } | undefined {
  const { verdict, diagnosis } = result.observations;
  return typeof verdict === 'string' && typeof diagnosis === 'string' ? { verdict, diagnosis } : undefined;
}

/** The headline check first, then one line per check: failing first, like `driftwatch run`. */
export function describeResults(results: readonly Result[], headline: string): string[] {
  const lines: string[] = [];
  const main = results.find((r) => r.name === headline);
  const judged = main && verdictOf(main);
  if (judged) {
    const tone = judged.verdict === 'healthy' ? green : red;
    lines.push(`  ${bold(headline)}: verdict ${tone(bold(judged.verdict))}`, wrap(judged.diagnosis, 4), '');
  }
  const sorted = [...results].sort((a, b) => Number(a.ok) - Number(b.ok) || a.name.localeCompare(b.name));
  const width = Math.max(...sorted.map((r) => r.name.length));
  for (const result of sorted) {
    const mark = result.ok ? green('PASS') : red('FAIL');
    const ingress = verdictOf(result);
    const detail = result.ok ? 'ok' : ingress ? ingress.diagnosis : `${result.reason ?? 'error'}: ${result.message}`;
    const lead = `  ${mark}  ${result.name.padEnd(width)}  ${dim(result.type.padEnd(7))}  `;
    const leadWidth = 2 + 4 + 2 + width + 2 + 7 + 2;
    lines.push(hang(lead, leadWidth, ingress ? `[${ingress.verdict}] ${detail}` : detail, leadWidth));
  }
  const failing = results.filter((r) => !r.ok).length;
  lines.push('', `  ${failing === 0 ? green(`all ${results.length} checks pass`) : red(`${failing} of ${results.length} checks fail`)}`, '');
  return lines;
}

/** With --once there is nothing left to look at afterwards: say how to get it. */
export function withoutOnce(): string[] {
  return [
    dim('Without --once the demo keeps running and tells you where to look meanwhile: the status page,'),
    dim('/metrics, a /probe with its step-by-step record, and `driftwatch run` on the demo\'s check file.'),
    '',
  ];
}

export function whereToLook(daemonUrl: string, runCommand: string, metricLine: string | undefined): string[] {
  const row = (what: string, how: string) => `  ${what.padEnd(13)} ${how}`;
  return [
    bold('Look around (in another terminal or a browser, while the demo runs):'),
    row('status page', `${daemonUrl}/`),
    row('metrics', `${daemonUrl}/metrics`),
    ...(metricLine === undefined ? [] : [row('', dim(metricLine))]),
    row('one probe', `curl -s '${daemonUrl}/probe?check=hub-ingress-hubs&debug=true'`),
    row('smoke gate', runCommand),
    row('', dim('that is `driftwatch run --checks FILE`: exit 1 while DNS is wrong, 0 once it is fixed')),
    '',
  ];
}
