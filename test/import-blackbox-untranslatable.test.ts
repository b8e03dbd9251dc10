import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startBlackbox } from './peers/blackbox.js';
import { startHttpPeer } from './peers/https.js';
import { runCli } from './support/cli.js';
import { parseExposition } from './support/exposition.js';
import { PeerSet } from './support/peers.js';

/*
 * A module the import cannot translate so that it decides as blackbox_exporter does is left out
 * and reported; the other modules are still written, and the import exits 0 (it wrote the
 * checks; the report names what it left out). Before, one such module failed the whole import
 * with exit 1, or was written without the part that made it fail: a silent false pass.
 */

const http = (rules: Record<string, unknown>) => ({ prober: 'http', timeout: '5s', http: { preferred_ip_protocol: 'ip4', ...rules } });
const PLAIN = http({ fail_if_body_not_matches_regexp: ['\\Aok'] });
/** Dropping these cannot change the outcome: written, "in part". */
const HARMLESS = { ...http({ enable_http2: false }), icmp: { preferred_ip_protocol: 'ip4' } };

/** Modules that cannot be translated, each with the start of the reason the report gives. */
const UNTRANSLATABLE: Record<string, { module: Record<string, unknown>; why: string }> = {
  // Go 1.19 (blackbox 0.23) accepts a capture name used twice; re2js refuses it.
  refused_pattern: { module: http({ fail_if_body_matches_regexp: ['(?P<word>fail)|(?P<word>error)'] }), why: "fail_if_body_matches_regexp /(?P<word>fail)|(?P<word>error)/: driftwatch's RE2 (re2js) refuses it: " },
  refused_header_alternation: {
    module: http({ fail_if_header_matches: [{ header: 'X-Status', regexp: '(?P<w>fail)' }, { header: 'X-Status', regexp: '(?P<w>error)' }] }),
    why: "fail_if_header_matches X-Status (the rules on this header as one alternation) /(?:(?P<w>fail))|(?:(?P<w>error))/: driftwatch's RE2 (re2js) refuses it: ",
  },
  refused_rr_pattern: {
    module: { prober: 'dns', timeout: '5s', dns: { query_name: 'www.example.test', query_type: 'A', validate_answer_rrs: { fail_if_matches_regexp: ['(?P<a>x)|(?P<a>y)'] } } },
    why: "validate_answer_rrs.fail_if_matches_regexp /(?P<a>x)|(?P<a>y)/: driftwatch's RE2 (re2js) refuses it: ",
  },
  status_999: { module: http({ valid_status_codes: [999] }), why: 'driftwatch does not accept the translated check: expect.status' },
  gzip: { module: http({ compression: 'gzip' }), why: 'compression: blackbox asks for a compressed body and fails a response it cannot decompress' },
  ssl_both: { module: http({ fail_if_ssl: true, fail_if_not_ssl: true }), why: 'fail_if_ssl and fail_if_not_ssl together: blackbox fails every response' },
  two_header_patterns: {
    module: http({ fail_if_header_not_matches: [{ header: 'X-Version', regexp: '^v' }, { header: 'X-Version', regexp: '[[:digit:]]\\z' }] }),
    why: 'fail_if_header_not_matches X-Version /[[:digit:]]\\z/: a header takes one pattern it must match',
  },
  server_name: { module: http({ tls_config: { server_name: 'internal.example.test' } }), why: 'tls_config.server_name internal.example.test: an http check sends and verifies the name in its URL' },
  propfind: { module: http({ method: 'PROPFIND' }), why: 'method PROPFIND: driftwatch sends GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' },
};

/** The report's lines for one module, up to the next module. */
function block(report: string, module: string): string {
  const lines = report.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${module}:`) || l.startsWith(`  ${module} `));
  const end = lines.findIndex((l, i) => i > at && /^ {2}\S/.test(l));
  return at < 0 ? '' : lines.slice(at, end < 0 ? undefined : end).join('\n');
}

describe('driftwatch import blackbox with modules it cannot translate', { timeout: 90_000 }, () => {
  const peers = new PeerSet();
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-import-left-out-'));
  });

  afterAll(async () => {
    await peers.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  async function importModules(modules: Record<string, unknown>): Promise<{ code: number | null; report: string; written: string; config: string }> {
    const config = stringify({ modules });
    const file = join(dir, `blackbox-${String(Object.keys(modules).length)}.yml`);
    const output = `${file}.checks.yaml`;
    await writeFile(file, config);
    const imported = await runCli(['import', 'blackbox', file, '--output', output, '--allow-target', 'http://127.0.0.1:*/*']);
    const written = await readFile(output, 'utf8').catch(() => '');
    return { code: imported.code, report: imported.stderr, written, config };
  }

  it('a blackbox.yml with one untranslatable module writes the others and reports that one', async () => {
    const refused = UNTRANSLATABLE.refused_pattern;
    if (!refused) throw new Error('no refused_pattern case');
    const { code, report, written } = await importModules({ plain: PLAIN, harmless: HARMLESS, refused_pattern: refused.module });
    expect(code, report).toBe(0);
    expect(report.split('\n')[0]).toMatch(/: 3 modules: 1 translated, 1 in part, 1 left out$/);
    expect(block(report, 'plain')).toBe('  plain -> plain (http): translated');
    expect(block(report, 'harmless')).toBe(
      '  harmless -> harmless (http): in part\n    not translated: enable_http2: driftwatch speaks HTTP/1.1 either way\n    not translated: icmp: a section for the icmp prober, which this module does not use',
    );
    expect(block(report, 'refused_pattern')).toMatch(/^ {2}refused_pattern: left out\n {4}why: fail_if_body_matches_regexp \/\(\?P<word>fail\)\|\(\?P<word>error\)\/: driftwatch's RE2 \(re2js\) refuses it: duplicate capture group name/);
    const checks = (parse(written) as { checks: { name: string }[] }).checks.map((c) => c.name);
    expect(checks).toEqual(['plain', 'harmless']);
    const validated = await runCli(['validate', '--checks', join(dir, 'blackbox-3.yml.checks.yaml')]);
    expect(validated.stdout).toBe('ok: 2 checks in 1 file\n');
  });

  it('leaves out every module it cannot translate, whatever the reason, and says why', async () => {
    const modules = { plain: PLAIN, ...Object.fromEntries(Object.entries(UNTRANSLATABLE).map(([name, c]) => [name, c.module])) };
    const { code, report, written } = await importModules(modules);
    expect(code, report).toBe(0);
    const count = Object.keys(UNTRANSLATABLE).length;
    expect(report.split('\n')[0]).toMatch(new RegExp(`: ${String(count + 1)} modules: 1 translated, 0 in part, ${String(count)} left out$`));
    for (const [name, { why }] of Object.entries(UNTRANSLATABLE)) {
      expect(block(report, name)).toContain(`  ${name}: left out\n    why: ${why}`);
    }
    expect((parse(written) as { checks: { name: string }[] }).checks.map((c) => c.name)).toEqual(['plain']);
  });

  it('blackbox_exporter accepts every one of these modules, and fails where the part left behind would have passed', async () => {
    const modules = { plain: PLAIN, ...Object.fromEntries(Object.entries(UNTRANSLATABLE).map(([name, c]) => [name, c.module])) };
    const routes = { '/': { body: 'ok', headers: { 'x-version': 'vx', 'x-status': 'fine' } }, '/error': { body: 'ok error' } };
    const target = await peers.start(startHttpPeer({ host: '127.0.0.1', routes }));
    // It starts only with a configuration Go's regexp compiles: the refused patterns are valid Go.
    const blackbox = await peers.start(startBlackbox(stringify({ modules })));
    const success = async (module: string, path: string) => {
      const probed = await blackbox.probe(module, target.url(path));
      expect(probed.status, probed.text).toBe(200);
      return parseExposition(probed.text).get('probe_success')?.samples[0]?.value;
    };
    expect(await success('plain', '/')).toBe(1);
    expect([await success('refused_pattern', '/'), await success('refused_pattern', '/error')]).toEqual([1, 0]);
    // Without compression, the status list, the second header pattern or the pair of TLS
    // conditions, what is left of each expects nothing the response lacks: it would pass.
    for (const module of ['gzip', 'status_999', 'two_header_patterns', 'ssl_both']) expect(`${module}: ${String(await success(module, '/'))}`).toBe(`${module}: 0`);
  });
});
