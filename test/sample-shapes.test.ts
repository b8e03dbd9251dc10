import { describe, expect, it } from 'vitest';
import type { ProbeSample, Sample } from '../src/results/run.js';
import { ShapeReceiver, ShapeSender, type Packed } from '../src/runner/sample-shapes.js';

/** One /probe answer's samples: the status code and the phases change from run to run, the shape does not. */
function probe(status: number, connect: number, tls?: string): ProbeSample[] {
  return [
    { name: 'probe_http_status_code', help: 'Response HTTP status code', value: status },
    { name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels: { phase: 'connect' }, value: connect },
    { name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels: { phase: 'tls' }, value: 0 },
    ...(tls === undefined ? [] : [{ name: 'probe_tls_version_info', help: 'Returns the TLS version used or NaN when unknown', labels: { version: tls }, value: 1 }]),
  ];
}

/** One run's driftwatch_* samples: no help; a label value that changes changes the shape. */
function series(status: number, via: string): Sample[] {
  return [
    { name: 'driftwatch_http_status_code', labels: { via }, value: status },
    { name: 'driftwatch_http_phase_duration_seconds', labels: { via, phase: 'connect' }, value: status / 1e6 },
  ];
}

/** Across a port, as structured clone carries it: nothing shared between the two ends. */
function across<T>(packed: Packed<T>): Packed<T> {
  return structuredClone(packed);
}

const kind = (p: Packed<unknown>) => ('whole' in p ? `whole ${p.shape}` : `values ${p.shape}`);

describe('samples across a run thread', () => {
  it('send values only while the shape is known, and read back exactly the samples sent', () => {
    const sender = new ShapeSender<ProbeSample>();
    const receiver = new ShapeReceiver<ProbeSample>();
    const runs = [probe(200, 0.001), probe(503, 0.002), probe(200, Number.NaN), probe(200, 0.003, 'TLS 1.3'), probe(404, 0.004, 'TLS 1.3'), probe(404, 0.005, 'TLS 1.2'), probe(200, 0.006)];
    const packed = runs.map((run) => across(sender.pack('hub-api', run)));
    // Whole the first time a shape is seen (a sample added, a label value changed); a shape seen before goes by its number.
    expect(packed.map(kind)).toEqual(['whole 0', 'values 0', 'values 0', 'whole 1', 'values 1', 'whole 2', 'values 0']);
    expect(packed[1]).toEqual({ shape: 0, values: [503, 0.002, 0] });
    expect(packed.map((p) => receiver.unpack(p))).toEqual(runs);
  });

  it('do the same for samples without help, and share a shape between checks', () => {
    const sender = new ShapeSender<Sample>();
    const receiver = new ShapeReceiver<Sample>();
    const runs: [string, Sample[]][] = [['a', series(200, 'dns')], ['b', series(404, 'dns')], ['a', series(404, 'ingress')], ['b', series(401, 'ingress')], ['c', []], ['c', series(200, 'dns')]];
    const packed = runs.map(([name, run]) => across(sender.pack(name, run)));
    expect(packed.map(kind)).toEqual(['whole 0', 'values 0', 'whole 1', 'values 1', 'whole 2', 'values 0']);
    expect(packed.map((p) => receiver.unpack(p))).toEqual(runs.map(([, run]) => run));
  });

  it('start again from number 0 when the table is full or after a failed send, and keep answers right', () => {
    const sender = new ShapeSender<ProbeSample>(2);
    const receiver = new ShapeReceiver<ProbeSample>();
    const runs = [probe(200, 0.1), probe(200, 0.1, 'TLS 1.2'), probe(201, 0.2), probe(200, 0.3, 'TLS 1.3'), probe(202, 0.4), probe(203, 0.5, 'TLS 1.2')];
    const packed = runs.map((run, i) => across(sender.pack(`c${i % 2}`, run)));
    // Full at two: the third shape starts the numbering again, and the first, once forgotten, is sent whole anew.
    expect(packed.map(kind)).toEqual(['whole 0', 'whole 1', 'values 0', 'whole 0', 'whole 1', 'whole 0']);
    expect(packed.map((p) => receiver.unpack(p))).toEqual(runs);
    sender.restart();
    expect(kind(sender.pack('c0', probe(200, 0.1)))).toBe('whole 0');
    // Values for a shape this end never read are no answer to trust: none rather than wrong ones.
    expect(new ShapeReceiver<ProbeSample>().unpack({ shape: 3, values: [1, 2, 3] })).toEqual([]);
  });
});
