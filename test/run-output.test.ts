import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatJunit } from '../src/commands/junit.js';
import { formatTable } from '../src/commands/table.js';
import type { Result } from '../src/results/result.js';
import { runCli } from './support/cli.js';

/** Reads a JUnit file with a real XML parser (python3's expat), which refuses a file that is not well-formed. */
async function parseJunit(file: string): Promise<{ name: string; message: string; text: string }[]> {
  const script = [
    'import json, sys, xml.etree.ElementTree as ET',
    'cases = ET.parse(sys.argv[1]).getroot().iter("testcase")',
    'print(json.dumps([{"name": c.get("name"), "message": f.get("message"), "text": f.text} for c in cases for f in c.iter("failure")]))',
  ].join('\n');
  const { stdout } = await promisify(execFile)('python3', ['-c', script, file]);
  return JSON.parse(stdout) as { name: string; message: string; text: string }[];
}

describe('run output with hostile target text', { timeout: 60_000 }, () => {
  let dir: string;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-run-output-'));
    server = createServer((req, res) => {
      // A JSON value the http check quotes back: C1 NEL, a noncharacter and a lone surrogate.
      if (req.url === '/value') res.setHeader('content-type', 'application/json').end('{"v":"\\u001b[2J\\u0085\\uffff\\ud800 x"}');
      // A broken document: the openapi check's parse error names the offending character (ESC), nothing more of the document.
      else res.end('{"openapi":\n\x1b[31m\x01\ufffered');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('escapes control characters in the table and writes well-formed JUnit XML', async () => {
    const checks = join(dir, 'hostile.yaml');
    const junit = join(dir, 'report.xml');
    await writeFile(checks, [
      'checks:',
      `  - { name: doc, type: openapi, url: "${base}/openapi.json" }`,
      `  - { name: value, type: http, url: "${base}/value", expect: { json: { v: x } } }`,
      '',
    ].join('\n'));
    const res = await runCli(['run', '--checks', checks, '--junit', junit]);
    expect(res.code, res.stderr).toBe(1);

    // No raw control character anywhere in the table but the line ends; one line per row.
    expect(res.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const rows = res.stdout.split('\n').filter((line) => /^(PASS|FAIL)\s/.test(line));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^FAIL\s+doc\s+openapi\s.*Unexpected token '\\x1b'/);
    expect(rows[1]).toMatch(/^FAIL\s+value\s+http\s.*json v is "\\u001b\[2J\\x85\uffff\\ud800 x", expected "x"/);

    const failures = await parseJunit(junit);
    expect(failures.map((f) => f.name)).toEqual(['doc', 'value']);
    const [doc, value] = failures;
    // ESC is forbidden in XML: shown as an escape.
    expect(doc?.message).toContain("Unexpected token '\\x1b'");
    expect(doc?.text).toBe(`assertion: ${doc?.message ?? ''}`);
    expect(value?.message).toBe('json v is "\\u001b[2J\u0085\\uffff\\ud800 x", expected "x"');
    expect(value?.text).toBe(`assertion: ${value?.message ?? ''}`);
  });
});

describe('table and JUnit text', () => {
  const failed = (message: string): Result => ({ name: 'txt', type: 'dns', ok: false, reason: 'assertion', message, startedAt: '2026-11-27T12:00:00.000Z', durationMs: 3, observations: {} });

  it('shows bidirectional overrides, line separators, C1 CSI and DEL as escapes in the table', () => {
    const row = formatTable([{ result: failed('a\u202eb\u2028c\u009bd\u007fe\tf\rg'), attempts: 1 }], { waited: false }).split('\n')[1];
    expect(row).toBe('FAIL    txt    dns   3ms   assertion: a\\u202eb\\u2028c\\x9bd\\x7fe\\tf\\rg');
  });

  it('replaces lone surrogates and keeps pairs in JUnit; tabs and line breaks in attributes as references', () => {
    const xml = formatJunit([{ result: failed('pair \ud83d\ude00 lone \ud800 \udc00 tab\tline\n'), attempts: 1 }], { waited: false });
    expect(xml).toContain('message="pair \ud83d\ude00 lone \\ud800 \\udc00 tab&#9;line&#10;">assertion: pair \ud83d\ude00 lone \\ud800 \\udc00 tab\tline\n</failure>');
  });
});
