import type { ProbeSample, Sample } from '../results/run.js';

/**
 * A run's samples cross from a run thread as their values only when they have the same names,
 * helps and labels, in the same order, as the last ones this thread sent for the check: a
 * check's series rarely change shape from run to run, and the names, labels and help texts were
 * most of what the daemon's thread had to rebuild from every answer (issue 29: allocation per
 * run). Two kinds cross so: the driftwatch_* samples of every run, and the blackbox-named ones of
 * a /probe run. The port keeps messages in order, so both ends agree on "the last ones": the
 * thread records a shape when it sends one whole, the daemon's thread when it reads it.
 */
export type Packed<T> =
  /** Whole, when the shape is new or changed (the first run of a check on a thread). */
  | { whole: T[] }
  /** The values, in the order of the last whole ones. */
  | { values: number[] };

/** What a shape compares: help only where the kind has one. */
type Shaped = Sample | ProbeSample;

/** The run thread's end for one kind of samples: one shape per check name, replaced when it changes. */
export class ShapeSender<T extends Shaped> {
  private readonly shapes = new Map<string, T[]>();

  pack(name: string, samples: T[]): Packed<T> {
    const last = this.shapes.get(name);
    if (last === undefined || !sameShape(last, samples)) {
      this.shapes.set(name, samples);
      return { whole: samples };
    }
    const values: number[] = [];
    for (const sample of samples) values.push(sample.value);
    return { values };
  }

  forget(name: string): void {
    this.shapes.delete(name);
  }
}

/** The daemon's thread's end for one kind, one per run thread (a restarted thread starts with none). */
export class ShapeReceiver<T extends Shaped> {
  private readonly shapes = new Map<string, T[]>();

  unpack(name: string, packed: Packed<T>): T[] {
    if ('whole' in packed) {
      this.shapes.set(name, packed.whole);
      return packed.whole;
    }
    const { values } = packed;
    const shape = this.shapes.get(name);
    // Cannot happen while both ends keep to the protocol; an answer without samples beats a wrong one.
    if (shape === undefined || shape.length !== values.length) return [];
    // The labels object is shared with the shape: samples are read, never changed.
    return shape.map((sample, i) => ({ ...sample, value: values[i] ?? Number.NaN }));
  }

  forget(name: string): void {
    this.shapes.delete(name);
  }
}

function sameShape(a: Shaped[], b: Shaped[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.name !== y.name || helpOf(x) !== helpOf(y) || !sameLabels(x.labels, y.labels)) return false;
  }
  return true;
}

function helpOf(sample: Shaped): string | undefined {
  return 'help' in sample ? sample.help : undefined;
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
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
