import { z } from 'zod';
import type { CheckType, Outcome, ProbeSample, RunContext, Sample } from './check-type.js';
import * as tcp from './tcp.js';

/**
 * Every check type, in one place. Adding a type: its module, one entry in the union and one
 * case in bind().
 */
export const checkSchema = z.discriminatedUnion('type', [tcp.schema]);

export type CheckSpec = z.infer<typeof checkSchema>;
export type CheckTypeName = CheckSpec['type'];
export const CHECK_TYPES: readonly CheckTypeName[] = checkSchema.options.map((o) => o.shape.type.value);

/** A check spec bound to its type's functions, so callers need no switch of their own. */
export interface BoundCheck {
  spec: CheckSpec;
  run(ctx: RunContext): Promise<{ outcome: Outcome<object>; samples: Sample[]; probeSamples: () => ProbeSample[] }>;
  /** Samples for a run that ended without observations (thrown error, timeout). */
  emptySamples(): Sample[];
  /** The overridable target, when the type has one. */
  target: string | undefined;
  retarget(target: string): CheckSpec | undefined;
}

export function bind(spec: CheckSpec): BoundCheck {
  switch (spec.type) {
    case 'tcp':
      return bindType(tcp.check, spec);
  }
}

function bindType<S extends CheckSpec, O extends object>(type: CheckType<S, O>, spec: S): BoundCheck {
  return {
    spec,
    async run(ctx) {
      const outcome = await type.run(spec, ctx);
      return {
        outcome,
        samples: type.samples?.(spec, outcome.observations) ?? [],
        probeSamples: () => type.probeSamples?.(spec, outcome.observations) ?? [],
      };
    },
    emptySamples: () => type.samples?.(spec, undefined) ?? [],
    target: type.target?.get(spec),
    retarget: (target) => type.target?.set(spec, target),
  };
}
