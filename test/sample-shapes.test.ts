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

const kind = (p: Packed<unknown>) => ('whole' in p ? 'whole' : 'values');

describe('samples across a run thread', () => {
  it('send values only while the shape repeats, and read back exactly the samples sent', () => {
    const sender = new ShapeSender<ProbeSample>();
    const receiver = new ShapeReceiver<ProbeSample>();
    const runs = [probe(200, 0.001), probe(503, 0.002), probe(200, Number.NaN), probe(200, 0.003, 'TLS 1.3'), probe(404, 0.004, 'TLS 1.3'), probe(404, 0.005, 'TLS 1.2')];
    const packed = runs.map((run) => across(sender.pack('hub-api', run)));
    // Whole the first time, and whenever the names, helps or labels change (a sample added, a label value changed).
    expect(packed.map(kind)).toEqual(['whole', 'values', 'values', 'whole', 'values', 'whole']);
    expect(packed[1]).toEqual({ values: [503, 0.002, 0] });
    expect(packed.map((p) => receiver.unpack('hub-api', p))).toEqual(runs);
  });

  it('do the same for samples without help, a label value making a new shape', () => {
    const sender = new ShapeSender<Sample>();
    const receiver = new ShapeReceiver<Sample>();
    const runs = [series(200, 'dns'), series(404, 'dns'), series(404, 'ingress'), series(401, 'ingress'), []];
    const packed = runs.map((run) => across(sender.pack('hub-api', run)));
    expect(packed.map(kind)).toEqual(['whole', 'values', 'whole', 'values', 'whole']);
    expect(packed.map((p) => receiver.unpack('hub-api', p))).toEqual(runs);
  });

  it('keep a shape per check, start whole again after a forget or a failed send', () => {
    const sender = new ShapeSender<ProbeSample>();
    const receiver = new ShapeReceiver<ProbeSample>();
    receiver.unpack('a', across(sender.pack('a', probe(200, 0.1))));
    expect(kind(sender.pack('b', probe(200, 0.1)))).toBe('whole');
    expect(sender.pack('a', probe(500, 0.2))).toEqual({ values: [500, 0.2, 0] });
    sender.forget('a');
    receiver.forget('a');
    const again = across(sender.pack('a', probe(201, 0.3)));
    expect(kind(again)).toBe('whole');
    expect(receiver.unpack('a', again)).toEqual(probe(201, 0.3));
    // Values for a shape this end never read are no answer to trust: none rather than wrong ones.
    expect(receiver.unpack('never-sent', { values: [1, 2, 3] })).toEqual([]);
  });
});
