import type { z } from 'zod';
import type { BaseSpec } from './base.js';

/** A check that another one reads a value from: an implied dependency, which must be of a type. */
export interface CheckReference {
  /** The check named. */
  name: string;
  /** The type that check must have (k8s-rollout's expect.digestFrom names an oci-image check). */
  type: string;
  /** Where the name stands in the referring check: `['expect', 'digestFrom']`. */
  path: readonly (string | number)[];
}

/**
 * The check types, as config reads check files with them. The caller hands them in: the
 * registry that lists them lives above config (DESIGN section 1), so config knows a spec by its
 * base fields and learns the rest from here.
 */
export interface CheckTypes<S extends BaseSpec = BaseSpec, B = unknown> {
  /** Every type's strict schema, in one union discriminated by `type`. */
  schema: z.ZodType<S>;
  /** The type names, for "unknown check type" messages. */
  names: readonly string[];
  /** The checks a spec reads a value from: dependencies it has without naming them in dependsOn. */
  references(spec: S): CheckReference[];
  /** The spec bound to its type's functions. */
  bind(spec: S): B;
  /**
   * The URL of a module that exports these same types as `checkTypes`: a worker thread cannot be
   * handed a schema, so one validating a large file imports them from there.
   */
  module: string;
}

/** A validated check, where it came from, and what loading found out about it. */
export interface LoadedCheck<S extends BaseSpec = BaseSpec, B = unknown> {
  spec: S;
  file: string;
  /** Where the check starts, and its index in the file's checks list. */
  line: number;
  index: number;
  bound: B;
  /**
   * dependsOn and the checks it reads from, without repeats: the one list the graph, blocking
   * and driftwatch_check_blocked read.
   */
  dependencies: readonly string[];
  /** specKey(spec): on reload, the same key is the same check (its slot, series and history stay). */
  key: string;
}
