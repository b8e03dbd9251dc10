import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

/** A flag that takes a value, given none: the message says what the flag takes (issue 30). */
describe('a value flag without its value', () => {
  it('run --wait --timeout 20s says what --wait takes, not parseArgs\' "ambiguous ... --wait=-XYZ"', async () => {
    const result = await runCli(['run', '--checks', 'examples/first-checks', '--wait', '--timeout', '20s']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('driftwatch run: --wait needs a value, a duration (how long to rerun what fails, e.g. --wait 5m); it was followed by another option (see driftwatch run --help)\n');
  });

  it('--wait last on the line, and another flag followed by an option', async () => {
    expect((await runCli(['run', '--checks', 'examples/first-checks', '--wait'])).stderr).toBe('driftwatch run: --wait needs a value, a duration (how long to rerun what fails, e.g. --wait 5m) (see driftwatch run --help)\n');
    expect((await runCli(['run', '--checks', 'examples/first-checks', '--only', '--wait', '5m'])).stderr).toBe('driftwatch run: --only needs a value, --only VALUE; it was followed by another option (see driftwatch run --help)\n');
  });
});
