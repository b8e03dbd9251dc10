import type { ProbeSample, Sample } from '../results/run.js';

/**
 * A run's samples cross from a run thread as their values only when the daemon's thread knows
 * their shape already: the same names, helps and labels, in the same order. A check's series
 * rarely change shape from run to run, and the names, labels and help texts were most of what
 * the daemon's thread had to rebuild from every answer (issue 29: allocation per run). Two kinds
 * cross so: the driftwatch_* samples of every run, and the blackbox-named ones of a /probe run.
 *
 * Shapes are shared, not kept per check: the http checks of a fleet mostly have one shape
 * between them, and a shape per check cost the daemon some 70 MB at 100,000 checks. The thread
 * numbers each shape the first time it sends it whole; the port keeps messages in order, so the
 * daemon's thread has read a shape before any message that names it by number. The table is
 * bounded: when full, the thread starts again from number 0, sending each shape whole anew.
 */
export type Packed<T> =
  /** A shape this end had not sent (or not since it started again): whole, with its number. */
  | { shape: number; whole: T[] }
  /** The values, in the order of the shape numbered. */
  | { shape: number; values: number[] };

/** What a shape compares: help only where the kind has one. */
type Shaped = Sample | ProbeSample;

/** Distinct shapes kept at once, per kind and run thread. */
export const MAX_SHAPES = 4096;

interface Known<T> {
  shape: number;
  samples: T[];
}

/** The run thread's end for one kind of samples. */
export class ShapeSender<T extends Shaped> {
  /** Every shape sent, by its text (shapeKey). */
  private readonly known = new Map<string, Known<T>>();
  /** Each check's last shape: compared first, so a repeated shape costs no key. */
  private readonly last = new Map<string, Known<T>>();

  constructor(private readonly max = MAX_SHAPES) {}

  pack(name: string, samples: T[]): Packed<T> {
    const last = this.last.get(name);
    if (last !== undefined && sameShape(last.samples, samples)) return { shape: last.shape, values: valuesOf(samples) };
    const key = shapeKey(samples);
    let known = this.known.get(key);
    if (known === undefined) {
      if (this.known.size >= this.max) this.restart();
      known = { shape: this.known.size, samples };
      this.known.set(key, known);
      this.last.set(name, known);
      return { shape: known.shape, whole: samples };
    }
    this.last.set(name, known);
    return { shape: known.shape, values: valuesOf(samples) };
  }

  /** The check is gone or changed: its last shape no longer matters (the shape stays known). */
  forget(name: string): void {
    this.last.delete(name);
  }

  /**
   * Forgets every shape: the next of each is sent whole under a new number. After a failed send,
   * so no shape counts as known that the other end may not have read.
   */
  restart(): void {
    this.known.clear();
    this.last.clear();
  }
}

/** The daemon's thread's end for one kind, one per run thread (a restarted thread starts with none). */
export class ShapeReceiver<T extends Shaped> {
  /** At most MAX_SHAPES: the sender numbers from 0 again when it starts again. */
  private readonly shapes = new Map<number, T[]>();

  unpack(packed: Packed<T>): T[] {
    if ('whole' in packed) {
      this.shapes.set(packed.shape, packed.whole);
      return packed.whole;
    }
    const { values } = packed;
    const shape = this.shapes.get(packed.shape);
    // Cannot happen while both ends keep to the protocol; an answer without samples beats a wrong one.
    if (shape === undefined || shape.length !== values.length) return [];
    // The labels objects are shared with the shape: samples are read, never changed.
    return shape.map((sample, i) => ({ ...sample, value: values[i] ?? Number.NaN }));
  }
}

function valuesOf(samples: Shaped[]): number[] {
  const values: number[] = [];
  for (const sample of samples) values.push(sample.value);
  return values;
}

/** The shape as text: names, helps and labels (in their order), without the values. */
function shapeKey(samples: Shaped[]): string {
  return JSON.stringify(samples.map((sample) => [sample.name, helpOf(sample) ?? null, sample.labels ?? null]));
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

/** The same pairs, in any order (Prometheus reads a sample's labels as a set). No array made: this runs per sample per run. */
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
