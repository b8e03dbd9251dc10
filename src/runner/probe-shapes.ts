import type { ProbeSample } from '../results/run.js';

/**
 * A /probe answer's samples cross from a run thread as their values only when they have the
 * same names, helps and labels, in the same order, as the last ones this thread sent for the
 * check: a check's blackbox series rarely change shape from run to run, and the names and help
 * texts were most of what the daemon's thread had to rebuild from every answer (issue 29:
 * allocation per probe). The port keeps messages in order, so both ends agree on "the last
 * ones": the thread records a shape when it sends one whole, the daemon's thread when it reads it.
 */
export interface PackedProbeSamples {
  /** Whole, when the shape is new or changed (the first probe run of a check on a thread). */
  probeSamples?: ProbeSample[];
  /** The values, in the order of the last whole ones. */
  probeValues?: number[];
}

/** The run thread's end: one shape per check name, replaced when it changes. */
export class ProbeShapeSender {
  private readonly shapes = new Map<string, ProbeSample[]>();

  pack(name: string, samples: ProbeSample[]): PackedProbeSamples {
    const last = this.shapes.get(name);
    if (last === undefined || !sameShape(last, samples)) {
      this.shapes.set(name, samples);
      return { probeSamples: samples };
    }
    const probeValues: number[] = [];
    for (const sample of samples) probeValues.push(sample.value);
    return { probeValues };
  }

  forget(name: string): void {
    this.shapes.delete(name);
  }
}

/** The daemon's thread's end, one per run thread (a restarted thread starts with none). */
export class ProbeShapeReceiver {
  private readonly shapes = new Map<string, ProbeSample[]>();

  /** The samples of an answer; undefined when it carried none (not a /probe run). */
  unpack(name: string, packed: PackedProbeSamples): ProbeSample[] | undefined {
    if (packed.probeSamples !== undefined) {
      this.shapes.set(name, packed.probeSamples);
      return packed.probeSamples;
    }
    const values = packed.probeValues;
    if (values === undefined) return undefined;
    const shape = this.shapes.get(name);
    // Cannot happen while both ends keep to the protocol; an answer without samples beats a wrong one.
    if (shape === undefined || shape.length !== values.length) return [];
    // The labels object is shared with the shape: samples are read, never changed.
    return shape.map(({ name: sample, help, labels }, i) => {
      const value = values[i] ?? Number.NaN;
      return labels === undefined ? { name: sample, help, value } : { name: sample, help, labels, value };
    });
  }

  forget(name: string): void {
    this.shapes.delete(name);
  }
}

function sameShape(a: ProbeSample[], b: ProbeSample[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.name !== y.name || x.help !== y.help || !sameLabels(x.labels, y.labels)) return false;
  }
  return true;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  let count = 0;
  for (const key in a) {
    if (a[key] !== b[key] || !Object.hasOwn(b, key)) return false;
    count++;
  }
  for (const key in b) if (Object.hasOwn(b, key)) count--;
  return count === 0;
}
