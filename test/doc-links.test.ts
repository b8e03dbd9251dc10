import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The documents a chart or dashboard user reads first: every relative link reaches a file, and
 * a #section of a Markdown file a heading there; none cites DESIGN.md, which is not shipped.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = ['grafana/README.md', 'charts/driftwatch/README.md'];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

describe.each(DOCS)('%s', (doc) => {
  it('links to files and sections that exist, and cites no DESIGN section', async () => {
    const text = await readFile(join(ROOT, doc), 'utf8');
    expect(text).not.toMatch(/DESIGN(\.md)? section/);
    const broken: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(ROOT, doc) : join(ROOT, dirname(doc), path);
      try {
        await access(file);
      } catch {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor === undefined || !file.endsWith('.md')) continue;
      const headings = [...(await readFile(file, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? ''));
      if (!headings.includes(anchor)) broken.push(`${target}: no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });
});
