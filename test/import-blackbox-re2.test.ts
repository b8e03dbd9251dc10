import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { startBlackbox, type BlackboxPeer } from './peers/blackbox.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { runCli } from './support/cli.js';
import { parseExposition } from './support/exposition.js';
import { PeerSet } from './support/peers.js';

/*
 * Imported patterns are Go's (RE2) syntax and must decide as blackbox_exporter decides. Each
 * module uses syntax that JavaScript's RegExp reads otherwise (\A and \z are letters there,
 * [[:punct:]] is a class followed by "]", inline flags are errors); each body is served by a real
 * HTTP peer and probed through the real blackbox_exporter 0.23 and through driftwatch's /probe
 * with the imported checks. Both must give the same probe_success for every module and body.
 */

interface Rules {
  fail_if_body_matches_regexp?: string[];
  fail_if_body_not_matches_regexp?: string[];
  fail_if_header_matches?: { header: string; regexp: string; allow_missing?: boolean }[];
  fail_if_header_not_matches?: { header: string; regexp: string; allow_missing?: boolean }[];
}

const MODULES: Record<string, Rules> = {
  no_error_prefix: { fail_if_body_matches_regexp: ['\\Aerror'] },
  no_error_punct: { fail_if_body_matches_regexp: ['error[[:punct:]]'] },
  no_error_any_case: { fail_if_body_matches_regexp: ['(?i)ERROR'] },
  ends_done: { fail_if_body_not_matches_regexp: ['done\\z'] },
  one_word: { fail_if_body_not_matches_regexp: ['^[[:alpha:]]+$'] },
  begin_end: { fail_if_body_not_matches_regexp: ['(?s)begin.+end'] },
  done_no_error: { fail_if_body_not_matches_regexp: ['(?i)\\bdone\\z'], fail_if_body_matches_regexp: ['\\Aerror[[:punct:]]'] },
  status_header: {
    fail_if_header_matches: [
      { header: 'X-Status', regexp: '\\Aerror', allow_missing: true },
      { header: 'X-Status', regexp: '(?i)FATAL\\z', allow_missing: true },
    ],
  },
  version_header: { fail_if_header_not_matches: [{ header: 'X-Version', regexp: '\\Av[[:digit:]]+\\z' }] },
};

/** Bodies and headers where Go's and JavaScript's reading of the patterns above part ways. */
const ROUTES: Record<string, { body: string; headers?: Record<string, string> }> = {
  '/error-colon': { body: 'error: disk full' },
  '/aerror': { body: 'Aerror is a name' },
  '/error-bracket': { body: 'error]' },
  '/errorp-bracket': { body: 'errorp] fine' },
  '/upper': { body: 'ERROR in module' },
  '/done': { body: 'all done' },
  '/donez': { body: 'all donez' },
  '/done-newline': { body: 'all done\n' },
  '/word': { body: 'hello' },
  '/alpha-bracket': { body: 'a]]' },
  '/begin-end': { body: 'begin\nmiddle\nend' },
  '/status-error': { body: 'x', headers: { 'x-status': 'error: boom', 'x-version': 'v12' } },
  '/status-aerror': { body: 'x', headers: { 'x-status': 'Aerror', 'x-version': 'Av1]' } },
  '/status-fatal': { body: 'x', headers: { 'x-status': 'Fatal', 'x-version': 'v12z' } },
  '/status-fatalz': { body: 'x', headers: { 'x-status': 'fatalz', 'x-version': 'v3' } },
};

/** What blackbox's http prober would decide with JavaScript's RegExp: to show the bodies tell the two apart. */
function javascriptVerdict(rules: Rules, route: { body: string; headers?: Record<string, string> }): boolean | 'invalid' {
  try {
    const test = (pattern: string, text: string) => new RegExp(pattern).test(text);
    if ((rules.fail_if_body_matches_regexp ?? []).some((p) => test(p, route.body))) return false;
    if (!(rules.fail_if_body_not_matches_regexp ?? []).every((p) => test(p, route.body))) return false;
    const value = (header: string) => route.headers?.[header.toLowerCase()];
    for (const r of rules.fail_if_header_matches ?? []) {
      const v = value(r.header);
      if (v === undefined ? r.allow_missing !== true : test(r.regexp, v)) return false;
    }
    for (const r of rules.fail_if_header_not_matches ?? []) {
      const v = value(r.header);
      if (v === undefined ? r.allow_missing !== true : !test(r.regexp, v)) return false;
    }
    return true;
  } catch {
    return 'invalid';
  }
}

describe('Imported blackbox regexes with RE2-only syntax behave as blackbox_exporter on the same body', { timeout: 120_000 }, () => {
  const peers = new PeerSet();
  let dir: string;
  let report: string;
  let output: string;
  let http: HttpPeer;
  let blackbox: BlackboxPeer;
  let api: DaemonApi;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-import-re2-'));
    const config = stringify({ modules: Object.fromEntries(Object.entries(MODULES).map(([name, rules]) => [name, { prober: 'http', timeout: '5s', http: { preferred_ip_protocol: 'ip4', ...rules } }])) });
    const file = join(dir, 'blackbox.yml');
    await writeFile(file, config);
    output = join(dir, 'imported.yaml');
    const imported = await runCli(['import', 'blackbox', file, '--output', output, '--allow-target', 'http://127.0.0.1:*/*']);
    expect(imported.code, imported.stderr).toBe(0);
    report = imported.stderr;
    http = await peers.start(startHttpPeer({ host: '127.0.0.1', routes: ROUTES }));
    blackbox = await peers.start(startBlackbox(config));
    api = await loadDaemonApi([output]);
    app = api.app;
  });

  afterAll(async () => {
    await api.close();
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('translates every module whole, with the patterns as written', () => {
    const count = Object.keys(MODULES).length;
    expect(report.split('\n')[0]).toMatch(new RegExp(`: ${count} modules: ${count} translated, 0 in part, 0 left out$`));
  });

  it('gives the same probe_success as blackbox_exporter for every module and body', async () => {
    const theirs: string[] = [];
    const ours: string[] = [];
    const outcomes = new Map<string, Set<string>>();
    const javascriptDiffers = new Set<string>();
    for (const [module, rules] of Object.entries(MODULES)) {
      for (const path of Object.keys(ROUTES)) {
        const target = http.url(path);
        const probed = await blackbox.probe(module, target);
        expect(probed.status, probed.text).toBe(200);
        const blackboxSuccess = parseExposition(probed.text).get('probe_success')?.samples[0]?.value;
        const res = await app.inject({ url: `/probe?module=${module}&target=${encodeURIComponent(target)}` });
        expect(res.statusCode, res.body).toBe(200);
        const driftwatchSuccess = parseExposition(res.body).get('probe_success')?.samples[0]?.value;
        theirs.push(`${module} ${path}: ${String(blackboxSuccess)}`);
        ours.push(`${module} ${path}: ${String(driftwatchSuccess)}`);
        outcomes.set(module, (outcomes.get(module) ?? new Set()).add(String(blackboxSuccess)));
        const route = ROUTES[path];
        if (route && javascriptVerdict(rules, route) !== (blackboxSuccess === 1)) javascriptDiffers.add(module);
      }
    }
    expect(ours).toEqual(theirs);
    // Every module both passes and fails somewhere, and somewhere JavaScript's RegExp would have
    // decided otherwise than Go: agreeing here means the patterns were read as Go reads them.
    for (const module of Object.keys(MODULES)) {
      expect([...(outcomes.get(module) ?? [])].sort(), module).toEqual(['0', '1']);
      expect(javascriptDiffers, module).toContain(module);
    }
  });
});
