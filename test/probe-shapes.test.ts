import { describe, expect, it } from 'vitest';
import type { ProbeSample } from '../src/results/run.js';
import { ProbeShapeReceiver, ProbeShapeSender, type PackedProbeSamples } from '../src/runner/probe-shapes.js';

/** One /probe answer's samples: the status code and the phases change from run to run, the shape does not. */
function samples(status: number, connect: number, tls?: string): ProbeSample[] {
  return [
    { name: 'probe_http_status_code', help: 'Response HTTP status code', value: status },
    { name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels: { phase: 'connect' }, value: connect },
    { name: 'probe_http_duration_seconds', help: 'Duration of http request by phase, summed over all redirects', labels: { phase: 'tls' }, value: 0 },
    ...(tls === undefined ? [] : [{ name: 'probe_tls_version_info', help: 'Returns the TLS version used or NaN when unknown', labels: { version: tls }, value: 1 }]),
  ];
}

/** Across a port, as structured clone carries it: nothing shared between the two ends. */
function across(packed: PackedProbeSamples): PackedProbeSamples {
  return structuredClone(packed);
}

describe('probe samples across a run thread', () => {
  it('send values only while the shape repeats, and read back exactly the samples sent', () => {
    const sender = new ProbeShapeSender();
    const receiver = new ProbeShapeReceiver();
    const runs = [samples(200, 0.001), samples(503, 0.002), samples(200, Number.NaN), samples(200, 0.003, 'TLS 1.3'), samples(404, 0.004, 'TLS 1.3'), samples(404, 0.005, 'TLS 1.2')];
    const packed = runs.map((run) => across(sender.pack('hub-api', run)));
    // Whole the first time, and whenever the names, helps or labels change (a sample added, a label value changed).
    expect(packed.map((p) => (p.probeSamples !== undefined ? 'whole' : 'values'))).toEqual(['whole', 'values', 'values', 'whole', 'values', 'whole']);
    expect(packed[1]).toEqual({ probeValues: [503, 0.002, 0] });
    expect(packed.map((p) => receiver.unpack('hub-api', p))).toEqual(runs);
  });

  it('keep a shape per check, start whole again after a forget or a failed send, and carry nothing for a run without samples', () => {
    const sender = new ProbeShapeSender();
    const receiver = new ProbeShapeReceiver();
    receiver.unpack('a', across(sender.pack('a', samples(200, 0.1))));
    expect(sender.pack('b', samples(200, 0.1)).probeSamples).toBeDefined();
    expect(sender.pack('a', samples(500, 0.2))).toEqual({ probeValues: [500, 0.2, 0] });
    sender.forget('a');
    receiver.forget('a');
    const again = across(sender.pack('a', samples(201, 0.3)));
    expect(again.probeSamples).toBeDefined();
    expect(receiver.unpack('a', again)).toEqual(samples(201, 0.3));
    expect(receiver.unpack('a', {})).toBeUndefined();
    // Values for a shape this end never read are no answer to trust: none rather than wrong ones.
    expect(receiver.unpack('never-sent', { probeValues: [1, 2, 3] })).toEqual([]);
  });
});
