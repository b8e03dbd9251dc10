import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { RUN_HELP } from '../src/commands/run.js';
import { releaseFields } from '../src/checks/release-fields.js';
import { parseChecks } from './support/checks.js';

/**
 * The gate's documentation stays true: the README's pipeline section shows --wait, dependsOn and
 * {release}, its command uses only flags `driftwatch run` has, and every check example of the
 * README section and of docs/gate.md is a valid check.
 */
const README = new URL('../README.md', import.meta.url);
const GATE_DOC = new URL('../docs/gate.md', import.meta.url);

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const next = markdown.slice(start + heading.length).search(/\n#{2,3} /);
  return markdown.slice(start, next < 0 ? undefined : start + heading.length + next);
}

function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
}

/** A YAML block that is a list of checks (`- name: ...`), indented as in the docs. */
function checkList(block: string): string | undefined {
  const lines = block.split('\n');
  const first = lines.find((l) => /^\s*- name: /.test(l));
  if (first === undefined || !/^\s*type: /m.test(block)) return undefined; // a pipeline step, not a check
  const indent = first.indexOf('-');
  return `checks:\n${lines.map((l) => `  ${l.slice(indent)}`).join('\n')}`;
}

describe('docs of the gate', () => {
  it('README: the gate section shows the pipeline usage with --wait, dependsOn and {release}', async () => {
    const gate = section(await readFile(README, 'utf8'), '### In the deploy pipeline: the post-deploy gate');
    const yaml = codeBlocks(gate, 'yaml');
    const step = yaml.find((b) => b.includes('driftwatch.js run'));
    expect(step).toBeDefined();
    const command = (step ?? '').replace(/\s*\\\n\s*/g, ' ').split('\n').find((line) => line.includes('driftwatch.js run')) ?? '';
    expect(command).toMatch(/ run --checks \S+ --release "\$\(git rev-parse --short HEAD\)" --wait 5m /);
    const flags = command.replace(/\$\([^)]*\)/g, '').match(/--[a-z-]+/g) ?? [];
    expect(flags).toEqual(['--checks', '--release', '--wait', '--junit', '--summary']);
    for (const flag of flags) expect(RUN_HELP, flag).toContain(`  ${flag} `);
    const checks = parseChecks(checkList(yaml.find((b) => b.includes('dependsOn')) ?? '') ?? '');
    expect(checks.map((c) => [c.spec.name, c.spec.dependsOn])).toEqual([['hub-version', ['hub-dns', 'hub-rollout', 'hub-db']]]);
    expect(checks.flatMap((c) => releaseFields(c.spec))).toEqual([['expect', 'json', 'info.version']]);
    expect(gate).toContain('docs/gate.md');
  });

  it('docs/gate.md: every check example is valid, and the {release} table lists the fields that expand', async () => {
    const doc = await readFile(GATE_DOC, 'utf8');
    const lists = codeBlocks(doc, 'yaml').flatMap((b) => checkList(b) ?? []);
    expect(lists.length).toBeGreaterThanOrEqual(2);
    const checks = lists.flatMap((yaml) => parseChecks(yaml.replace('# ...', 'host: db.example\n    database: app\n    user: app\n    password: { env: DB_PASSWORD }')));
    const fields = checks.flatMap((c) => releaseFields(c.spec).map((f) => `${c.spec.type} ${f.filter((k) => typeof k === 'string').join('.')}`));
    expect(fields.sort()).toEqual([
      'http expect.bodyContains',
      'http expect.bodyMatches',
      'http expect.headers.x-release',
      'http expect.json.info.version',
      'openapi expect.title.matches',
      'openapi expect.version',
    ]);
  });
});
