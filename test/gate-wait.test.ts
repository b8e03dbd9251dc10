import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createProgress } from '../src/gate/progress.js';
import { formatTable } from '../src/commands/table.js';
import { formatMarkdown } from '../src/gate/summary.js';
import { pauseAfter } from '../src/gate/wait.js';
import type { Result } from '../src/results/result.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { runCli } from './support/cli.js';
import { PeerSet } from './support/peers.js';

/**
 * `run --wait`: a real target on loopback that answers 503 until 3 s after the first request
 * reached it, then 200 (a rollout settling), and the real CLI waiting for it.
 */
const HEALTHY_AFTER_MS = 3000;

interface WaitJson {
  ok: boolean;
  summary: string;
  rounds: number;
  elapsedMs: number;
  results: (Pick<Result, 'name' | 'ok' | 'reason' | 'message' | 'blocked'> & { attempts: number; passedAfterMs?: number })[];
}

describe('run --wait: reruns what fails until it passes or the wait is over', { timeout: 120_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let target: HttpPeer;
  let firstRequestAt: number | undefined;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-gate-wait-'));
    target = await peers.start(
      startHttpPeer({
        host: '127.0.0.1',
        routes: {
          '/health': () => {
            firstRequestAt ??= Date.now();
            return Date.now() - firstRequestAt < HEALTHY_AFTER_MS ? { status: 503, body: 'starting' } : { status: 200, body: 'ok' };
          },
        },
      }),
    );
    const checks = [
      { name: 'settling', type: 'http', url: target.url('/health'), timeout: '2s' },
      { name: 'after-settling', type: 'tcp', host: '127.0.0.1', port: target.port, timeout: '2s', dependsOn: ['settling'] },
      { name: 'steady', type: 'tcp', host: '127.0.0.1', port: target.port, timeout: '2s' },
    ];
    file = join(dir, 'checks.yaml');
    await writeFile(file, stringify({ checks }));
  });
  beforeEach(() => {
    firstRequestAt = undefined;
  });
  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('--wait 20s exits 0 once the target turns healthy, with attempts and time-to-pass per check', async () => {
    const junit = join(dir, 'wait.xml');
    const res = await runCli(['run', '--checks', file, '--wait', '20s', '--json', '--junit', junit], {}, 60_000);
    expect(res.code, res.stderr).toBe(0);
    const parsed = JSON.parse(res.stdout) as WaitJson;
    const byName = new Map(parsed.results.map((r) => [r.name, r]));
    const settling = byName.get('settling');
    expect(settling?.ok).toBe(true);
    expect(settling?.attempts).toBeGreaterThanOrEqual(3); // 503 at 0 s and 1 s, 200 from 3 s on
    expect(settling?.passedAfterMs).toBeGreaterThanOrEqual(HEALTHY_AFTER_MS);
    expect(settling?.passedAfterMs).toBeLessThan(20_000);
    // Passed in the first round and never rerun; the dependent ran once its dependency passed.
    expect(byName.get('steady')).toMatchObject({ ok: true, attempts: 1 });
    expect(byName.get('after-settling')).toMatchObject({ ok: true, attempts: 1 });
    expect(byName.get('after-settling')?.passedAfterMs).toBeGreaterThanOrEqual(settling?.passedAfterMs ?? Infinity);
    expect(parsed.rounds).toBe(settling?.attempts);
    expect(parsed.summary).toBe('All 3 checks pass.');
    // The target saw one request per attempt: only the failing check was rerun.
    expect(target.requests.length).toBe(settling?.attempts);
    // Not a terminal: one plain line per round on stderr, nothing rewritten in place.
    expect(res.stderr).not.toContain('\r');
    expect(res.stderr).toMatch(/^driftwatch run: round 1 at \d+\.\ds of 20\.0s: 1 failing \(settling: status\), 1 blocked, 1 passed; next round in 1\.0s$/m);
    expect(res.stderr).toMatch(/^driftwatch run: round \d+ at \d+\.\ds of 20\.0s: 3 passed$/m);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testcase classname="driftwatch.http" name="settling" time="[\d.]+">\s*<system-out>passed after \d+\.\ds \(\d attempts\)<\/system-out>/);
  });

  it('--wait 20s: the table has attempts and time-to-pass columns', async () => {
    const res = await runCli(['run', '--checks', file, '--wait', '20s'], {}, 60_000);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^RESULT\s+CHECK\s+TYPE\s+TIME\s+ATTEMPTS\s+PASSED AFTER\s+DETAIL$/m);
    const row = /^PASS\s+settling\s+http\s+\d+ms\s+(\d+)\s+(\d+\.\d)s\s+ok$/m.exec(res.stdout);
    expect(row, res.stdout).not.toBeNull();
    expect(Number(row?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(row?.[2])).toBeGreaterThanOrEqual(HEALTHY_AFTER_MS / 1000);
    expect(res.stdout).toMatch(/^PASS\s+steady\s+tcp\s+\d+ms\s+1\s+\d+\.\ds\s+ok$/m);
    expect(res.stdout).toMatch(/\n\n3 passed, 0 failed\nAll 3 checks pass\.\n$/);
  });

  it('--wait 2s exits 1 with the last failure, the attempts, and the blocked dependent', async () => {
    const res = await runCli(['run', '--checks', file, '--wait', '2s', '--json'], {}, 60_000);
    expect(res.code, res.stderr).toBe(1);
    const parsed = JSON.parse(res.stdout) as WaitJson;
    const byName = new Map(parsed.results.map((r) => [r.name, r]));
    const settling = byName.get('settling');
    expect(settling).toMatchObject({ ok: false, reason: 'status', message: 'status 503, expected 2xx' });
    expect(settling?.attempts).toBeGreaterThanOrEqual(2);
    expect(settling?.passedAfterMs).toBeUndefined();
    expect(byName.get('after-settling')).toMatchObject({ ok: false, attempts: 0, blocked: { by: ['settling'], roots: ['settling'] } });
    expect(parsed.elapsedMs).toBeLessThan(HEALTHY_AFTER_MS + 2000);
    expect(parsed.summary).toBe('First broken link: settling (status), blocking after-settling: status 503, expected 2xx.');
    expect(res.stderr).toMatch(/^driftwatch run: round \d+ at \d+\.\ds of 2\.0s: 1 failing \(settling: status\), 1 blocked, 1 passed; the wait is over$/m);
  });

  it('rejects a malformed --wait and --every without --wait (exit 2)', async () => {
    const bad = await runCli(['run', '--checks', file, '--wait', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--wait must be a duration such as 500ms, 30s, 5m or 1h, got "soon"');
    const alone = await runCli(['run', '--checks', file, '--every', '5s']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--every needs --wait DURATION');
  });
});

describe('run --wait: pauses and the progress line', () => {
  it('pauses start at 1 s and double up to --every', () => {
    expect([1, 2, 3, 4, 5, 6].map((round) => pauseAfter(round, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect([1, 2].map((round) => pauseAfter(round, 500))).toEqual([500, 500]);
  });

  it('on a terminal, one line rewritten in place and cleared at the end', () => {
    const written: string[] = [];
    const progress = createProgress({ isTTY: true, columns: 60, write: (text) => written.push(text) > 0 });
    const failing: Result = { name: 'hub-dns', type: 'dns', ok: false, reason: 'dns', message: 'NXDOMAIN', startedAt: '', durationMs: 1, observations: {} };
    progress.round({ round: 1, elapsedMs: 400, waitMs: 20_000, results: [failing], nextInMs: 1000 });
    progress.round({ round: 2, elapsedMs: 1500, waitMs: 20_000, results: [{ ...failing, ok: true, reason: undefined }], nextInMs: undefined });
    progress.done();
    expect(written).toEqual(['\r\x1b[2Kround 1 at 0.4s of 20.0s: 1 failing (hub-dns: dns), 0 pa...', '\r\x1b[2Kround 2 at 1.5s of 20.0s: 1 passed', '\r\x1b[2K']);
  });

  it('the Markdown summary has attempts and time-to-pass after --wait, and escapes what targets say', () => {
    const hostile: Result = { name: 'hub-page', type: 'http', ok: false, reason: 'assertion', message: 'body does not contain "a|b <img src=x> [x](http://evil) **bold**"\nsecond line', startedAt: '', durationMs: 12.4, observations: {} };
    const passed: Result = { name: 'hub-db', type: 'postgres', ok: true, message: 'ok', startedAt: '', durationMs: 30, observations: {} };
    const md = formatMarkdown({ checks: [{ result: passed, attempts: 3, passedAfterMs: 6120 }, { result: hostile, attempts: 5 }], rounds: 5, elapsedMs: 20_400 }, { waited: true, release: 'v`2' });
    expect(md.split('\n')).toEqual([
      '### ❌ driftwatch: 1 of 2 checks failing',
      '',
      'release `v2` · 5 rounds in 20.4s',
      '',
      'First broken link: hub-page (assertion): body does not contain "a\\|b &lt;img src=x&gt; \\[x\\](http\u2060://evil) \\*\\*bold\\*\\*" second line.',
      '',
      '| Result | Check | Type | Time | Attempts | Passed after | Detail |',
      '| --- | --- | --- | --: | --: | --: | --- |',
      '| ❌ fail | `hub-page` | http | 12 ms | 5 | – | assertion: body does not contain "a\\|b &lt;img src=x&gt; \\[x\\](http\u2060://evil) \\*\\*bold\\*\\*" second line |',
      '| ✅ pass | `hub-db` | postgres | 30 ms | 3 | 6.1s | ok |',
      '',
    ]);
  });

  it('the Markdown summary links nothing a target wrote and hides nothing: no autolink, no mention, no bidi or C1 control', () => {
    const said = 'body was "see https://evil.example/x, HTTP://evil.example, ftp://evil.example, www.evil.example, WWW.evil.example, mailto:a@evil.example, a@evil.example, @octocat" then \u202egnp.exe\u202c \u2066x\u2069 \u200f\u061c \u009b31m \u0085';
    const hostile: Result = { name: 'hub-page', type: 'http', ok: false, reason: 'assertion', message: said, startedAt: '', durationMs: 3, observations: {} };
    const md = formatMarkdown({ checks: [{ result: hostile, attempts: 1 }], rounds: 1, elapsedMs: 3 }, { waited: false, release: 'v1 https://evil.example \u202e' });
    expect(autolinks(md)).toEqual([]);
    expect(md).not.toMatch(/[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    // Still readable: the words are all there, the joiners invisible, the controls named.
    const shown = md.replaceAll('\u2060', '');
    for (const text of ['https://evil.example/x', 'www.evil.example', 'a@evil.example', '@octocat']) expect(shown).toContain(text);
    expect(shown).toContain('\\\\u202egnp.exe\\\\u202c \\\\u2066x\\\\u2069 \\\\u200f\\\\u061c \\\\u009b31m \\\\u0085');
    // The terminal table names the same characters.
    for (const code of ['202e', '202c', '2066', '2069', '200f', '061c']) expect(formatTable([{ result: hostile, attempts: 1 }], { waited: false })).toContain(`\\u${code}`);
  });
});

/**
 * Where GitHub (cmark-gfm's autolink extension) or Gitea (goldmark's linkify, its mention and
 * e-mail processors) would make a link of text outside code spans, read more widely than either does: a
 * scheme's letters right before "://", "www." in any case, an address character or nothing
 * before "@" followed by a name character (an e-mail address, a mailto:, a mention).
 */
function autolinks(markdown: string): string[] {
  // Code spans (the check's name, the release) are never linked; a target's backticks are escaped.
  const text = markdown.replace(/(?<!\\)`[^`]*`/g, '``');
  return [...text.matchAll(/[a-z]:\/\/|www\.|@[A-Za-z0-9_-]/gi)].map((m) => text.slice(Math.max(0, m.index - 20), m.index + 20));
}
