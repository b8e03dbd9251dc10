import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FLAGS_SET, growthFor, LARGE_HEAP_BYTES, serviceFlagsToSet, SERVICE_V8_FLAGS } from '../src/commands/heap-tuning.js';

const run = promisify(execFile);
const MB = 1024 * 1024;

describe('the V8 settings of serve', () => {
  it('are flags this node knows (an unknown one is only a line on stderr, so the setting would be lost unseen)', async () => {
    // The same calls serve makes, in a node of the version running the suite (CI: 20 and 24).
    const script = `const v8 = require('node:v8'); for (const flag of JSON.parse(process.argv[1])) v8.setFlagsFromString(flag); console.log('set');`;
    const { stdout, stderr } = await run(process.execPath, ['-e', script, JSON.stringify(FLAGS_SET)]);
    expect(stdout.trim()).toBe('set');
    expect(stderr).toBe('');
    // The check above can fail: a flag V8 does not know is reported.
    const unknown = await run(process.execPath, ['-e', script, JSON.stringify(['--no-such-heap-flag'])]);
    expect(unknown.stderr).toContain('unrecognized flag');
  });

  it('sets both when node was started without them', () => {
    expect(serviceFlagsToSet([])).toEqual(['--no-allocation-site-pretenuring', '--heap-growing-percent']);
    expect(serviceFlagsToSet(['--enable-source-maps', '--max-old-space-size=800'])).toEqual([...SERVICE_V8_FLAGS]);
  });

  it("leaves a flag the operator gave node as given, in any of V8's spellings", () => {
    expect(serviceFlagsToSet(['--allocation-site-pretenuring'])).toEqual(['--heap-growing-percent']);
    expect(serviceFlagsToSet(['--no-allocation_site_pretenuring'])).toEqual(['--heap-growing-percent']);
    expect(serviceFlagsToSet(['--heap_growing_percent=100'])).toEqual(['--no-allocation-site-pretenuring']);
    expect(serviceFlagsToSet(['--heap-growing-percent=20', '--allocation-site-pretenuring'])).toEqual([]);
  });

  it('caps the growth of a large live heap only, with a margin before it lets go again', () => {
    expect(growthFor(30 * MB, false)).toBe(false);
    expect(growthFor(LARGE_HEAP_BYTES, false)).toBe(true);
    expect(growthFor(310 * MB, false)).toBe(true);
    expect(growthFor(110 * MB, true)).toBe(true);
    expect(growthFor(110 * MB, false)).toBe(false);
    expect(growthFor(60 * MB, true)).toBe(false);
  });
});
