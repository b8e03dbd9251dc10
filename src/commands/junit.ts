import type { Result } from '../result.js';
import { replaceXmlForbidden } from './visible-text.js';

/** A JUnit XML report: one testcase per check, failures with their reason as type. */
export function formatJunit(results: readonly Result[]): string {
  const failures = results.filter((r) => !r.ok).length;
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = results.map((r) => {
    const open = `    <testcase classname="driftwatch.${escapeAttribute(r.type)}" name="${escapeAttribute(r.name)}" time="${seconds(r.durationMs)}"`;
    if (r.ok) return `${open}/>`;
    const reason = escapeAttribute(r.reason ?? 'error');
    return `${open}>\n      <failure type="${reason}" message="${escapeAttribute(r.message)}">${escapeXml(`${r.reason ?? 'error'}: ${r.message}`)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="driftwatch" tests="${results.length}" failures="${failures}" time="${seconds(total)}">`,
    `  <testsuite name="driftwatch" tests="${results.length}" failures="${failures}" errors="0" time="${seconds(total)}">`,
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
