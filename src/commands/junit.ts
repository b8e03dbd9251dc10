import { formatSeconds, type GateCheck } from '../gate/wait.js';
import { replaceXmlForbidden } from './visible-text.js';

/**
 * A JUnit XML report: one testcase per check, failures with their reason as type. A blocked
 * check is `<skipped>` with its message ("blocked: hub-db failed (auth)"): it was not run, and
 * CI test views (GitHub, GitLab, Gitea, Jenkins) then show one red test, the first broken link,
 * instead of a dozen failures with one cause. The job still fails on the exit code. After
 * `--wait` each testcase's <system-out> says how often it ran and when it first passed.
 */
export function formatJunit(checks: readonly GateCheck[], options: { waited: boolean }): string {
  const results = checks.map((c) => c.result);
  const failures = results.filter((r) => !r.ok && r.blocked === undefined).length;
  const skipped = results.filter((r) => r.blocked !== undefined).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = checks.map((check) => {
    const r = check.result;
    const open = `    <testcase classname="driftwatch.${escapeAttribute(r.type)}" name="${escapeAttribute(r.name)}" time="${seconds(r.durationMs)}"`;
    const out = options.waited ? [`      <system-out>${escapeXml(describeAttempts(check))}</system-out>`] : [];
    const reason = escapeAttribute(r.reason ?? 'error');
    const outcome = r.ok
      ? []
      : r.blocked
        ? [`      <skipped message="${escapeAttribute(r.message)}"/>`]
        : [`      <failure type="${reason}" message="${escapeAttribute(r.message)}">${escapeXml(`${r.reason ?? 'error'}: ${r.message}`)}</failure>`];
    if (outcome.length + out.length === 0) return `${open}/>`;
    return [`${open}>`, ...outcome, ...out, '    </testcase>'].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="driftwatch" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="driftwatch" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/**
 * Text for an element. Characters XML forbids become visible escapes: a message carries what
 * targets sent, and one ESC in it made the whole report not well-formed.
 */
function escapeXml(text: string): string {
  return replaceXmlForbidden(text).replace(/[<>&"']/g, (c) => ENTITIES[c] ?? c);
}

/** An attribute value: tabs and line breaks as references too, or a parser reads them as spaces. */
function escapeAttribute(text: string): string {
  return replaceXmlForbidden(text).replace(/[<>&"'\t\n\r]/g, (c) => ENTITIES[c] ?? c);
}

/** "passed on attempt 3, 6.1s after the gate started", "failed all 5 attempts". */
function describeAttempts({ result, attempts, passedAfterMs }: GateCheck): string {
  const runs = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  if (passedAfterMs !== undefined) return `passed after ${formatSeconds(passedAfterMs)} (${runs})`;
  return `${result.blocked ? 'blocked' : 'never passed'} (${runs})`;
}
