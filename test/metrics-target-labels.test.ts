/**
 * Trust round 3, item 8: label values that come from targets (here a DNS TXT answer, in the
 * `answer` label) carry no raw CR, NUL, other control characters or U+2028/2029 into /metrics:
 * line-based tools split on them. Knot serves the record; the daemon runs the check and renders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKnot, type Knot } from './peers/knot.js';
import { startDaemonApi, type DaemonApi } from './support/daemon-api.js';

describe('target-made label values on /metrics', () => {
  let knot: Knot;
  let api: DaemonApi;

  beforeAll(async () => {
    // \013 is CR, \000 NUL, \226\128\168 the UTF-8 of U+2028, \194\133 the C1 NEL.
    const long = `"${'x'.repeat(200)}" "${'y'.repeat(200)}"`;
    knot = await startKnot({
      zones: { 'labels.test': ['txt 300 TXT "a\\013b\\000c\\226\\128\\168d\\194\\133e"', `long 300 TXT ${long} "1"`, `long 300 TXT ${long} "2"`] },
    });
    api = await startDaemonApi(
      [
        'checks:',
        `  - { name: txt-labels, type: dns, query: txt.labels.test, record: TXT, resolvers: ["${knot.address}"], schedule: "0 0 1 1 *" }`,
        `  - { name: long-labels, type: dns, query: long.labels.test, record: TXT, resolvers: ["${knot.address}"], schedule: "0 0 1 1 *" }`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await api.close();
    await knot.close();
  });

  it('replaces control characters and line separators in the answer label, one series per line', async () => {
    const run = await api.app.inject({ method: 'POST', url: '/api/v1/checks/txt-labels/run' });
    expect(run.statusCode).toBe(200);
    const text = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    const lines = text.split('\n').filter((line) => line.startsWith('driftwatch_dns_answer_info'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('answer="a\ufffdb\ufffdc\ufffdd\ufffde"');
    expect(text).not.toMatch(/[\r\u0000\u2028\u2029\u0085]/);
  });

  it('cuts long answers in the label, and answers cut alike share one series', async () => {
    await api.app.inject({ method: 'POST', url: '/api/v1/checks/long-labels/run' });
    const text = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    const lines = text.split('\n').filter((line) => line.startsWith('driftwatch_dns_answer_info{check="long-labels"'));
    expect(lines).toEqual([expect.stringContaining(`answer="${'x'.repeat(200)}${'y'.repeat(56)}..."`)]);
  });
});
