import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { serviceFlagsToSet, SERVICE_V8_FLAGS } from '../src/commands/heap-tuning.js';

const run = promisify(execFile);

describe('the V8 settings of serve', () => {
  it('are flags this node knows (an unknown one is only a line on stderr, so the setting would be lost unseen)', async () => {
    // The same call serve makes, in a node of the version running the suite (CI: 20 and 24).
    const script = `const v8 = require('node:v8'); for (const flag of JSON.parse(process.argv[1])) v8.setFlagsFromString(flag); console.log('set');`;
    const { stdout, stderr } = await run(process.execPath, ['-e', script, JSON.stringify(SERVICE_V8_FLAGS)]);
    expect(stdout.trim()).toBe('set');
    expect(stderr).toBe('');
    // The check above can fail: a flag V8 does not know is reported.
    const unknown = await run(process.execPath, ['-e', script, JSON.stringify(['--no-such-heap-flag'])]);
    expect(unknown.stderr).toContain('unrecognized flag');
  });

  it('sets both when node was started without them', () => {
    expect(serviceFlagsToSet([])).toEqual(['--no-allocation-site-pretenuring', '--heap-growing-percent=50']);
    expect(serviceFlagsToSet(['--enable-source-maps', '--max-old-space-size=800'])).toEqual([...SERVICE_V8_FLAGS]);
  });

  it("leaves a flag the operator gave node as given, in any of V8's spellings", () => {
    expect(serviceFlagsToSet(['--allocation-site-pretenuring'])).toEqual(['--heap-growing-percent=50']);
    expect(serviceFlagsToSet(['--no-allocation_site_pretenuring'])).toEqual(['--heap-growing-percent=50']);
    expect(serviceFlagsToSet(['--heap_growing_percent=100'])).toEqual(['--no-allocation-site-pretenuring']);
    expect(serviceFlagsToSet(['--heap-growing-percent=20', '--allocation-site-pretenuring'])).toEqual([]);
  });
});
