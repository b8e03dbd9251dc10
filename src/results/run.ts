import type { SeriesName } from './families.js';
import type { Result } from './result.js';

/** One per-check metric sample derived from a run's observations (no prom-client here). */
export interface Sample {
  name: SeriesName;
  labels?: Record<string, string>;
  value: number;
}

/** One blackbox_exporter-style sample for /probe?format=prometheus (probe_* names). */
export interface ProbeSample {
  name: string;
  help: string;
  labels?: Record<string, string>;
  value: number;
}

/** A finished run: the public result plus what the metrics need. */
export interface Run {
  result: Result;
  samples: Sample[];
  probeSamples: () => ProbeSample[];
}
