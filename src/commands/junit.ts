import type { Result } from '../result.js';

/**
 * A JUnit XML report: one testcase per check, failures with their reason as type. A blocked
 * check is `<skipped>` with its message ("blocked: hub-db failed (auth)"): it was not run, and
 * CI test views (GitHub, GitLab, Gitea, Jenkins) then show one red test, the first broken link,
 * instead of a dozen failures with one cause. The job still fails on the exit code.
 */
export function formatJunit(results: readonly Result[]): string {
  const failures = results.filter((r) => !r.ok && r.blocked === undefined).length;
  const skipped = results.filter((r) => r.blocked !== undefined).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = results.map((r) => {
    const open = `    <testcase classname="driftwatch.${escapeXml(r.type)}" name="${escapeXml(r.name)}" time="${seconds(r.durationMs)}"`;
    if (r.ok) return `${open}/>`;
    if (r.blocked) return `${open}>\n      <skipped message="${escapeXml(r.message)}"/>\n    </testcase>`;
    const reason = escapeXml(r.reason ?? 'error');
    return `${open}>\n      <failure type="${reason}" message="${escapeXml(r.message)}">${escapeXml(`${r.reason ?? 'error'}: ${r.message}`)}</failure>\n    </testcase>`;
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

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}
