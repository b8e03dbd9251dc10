import { z } from 'zod';
import type { CheckReference, CheckTypes, LoadedCheck as Loaded } from '../config/check-types.js';
import type { CheckType, Outcome, RunContext } from './check-type.js';
import type { ProbeSample, Sample } from '../results/run.js';
import * as tcp from './tcp.js';
import * as http from './http.js';
import * as tls from './tls.js';
import * as dns from './dns.js';
import * as postgres from './postgres.js';
import * as k8sRollout from './k8s-rollout.js';
import * as cnpgCluster from './cnpg-cluster.js';
import * as k8sSecret from './k8s-secret.js';
import * as ingress from './ingress.js';
import * as openapi from './openapi.js';
import * as ociImage from './oci-image.js';
import * as helmRelease from './helm-release.js';
import * as flow from './flow.js';
import * as grpc from './grpc.js';

/**
 * Every check type, in one place. Adding a type: its module, one entry in the union and one
 * case in bind().
 */
export const checkSchema = z.discriminatedUnion('type', [tcp.schema, http.schema, tls.schema, dns.schema, postgres.schema, k8sRollout.schema, cnpgCluster.schema, k8sSecret.schema, ingress.schema, openapi.schema, ociImage.schema, helmRelease.schema, flow.schema, grpc.schema]);

export type CheckSpec = z.infer<typeof checkSchema>;
export type CheckTypeName = CheckSpec['type'];
export const CHECK_TYPES: readonly CheckTypeName[] = checkSchema.options.map((o) => o.shape.type.value);

/**
 * Whether a check reads the Kubernetes API (and so needs @kubernetes/client-node): the
 * Kubernetes check types, ingress checks that take their expected addresses from a Service, and
 * http and tcp checks that ask every endpoint of a Service (endpointsFrom), and flows with a step
 * pinned to a Service's ingress (steps[].ingressFrom).
 */
export function usesKubernetes(spec: CheckSpec): boolean {
  switch (spec.type) {
    case 'k8s-rollout':
    case 'cnpg-cluster':
    case 'k8s-secret':
    case 'helm-release':
      return true;
    case 'ingress':
      return spec.ingressFrom !== undefined;
    case 'http':
    case 'tcp':
      return spec.endpointsFrom !== undefined;
    case 'flow':
      return spec.steps.some((step) => step.ingressFrom !== undefined);
    default:
      return false;
  }
}

/**
 * Whether a run of the spec reads a peer through a client library (pg, grpc-js, undici, the
 * Kubernetes client), which may throw from its own socket listener where no promise catches it:
 * such runs execute in the run scope (runner/run-scope.ts), which turns that throw into the run's
 * failure. http, tcp, tls and dns checks read their peers only through driftwatch's own
 * listeners, each guarded (net/listener-guard.ts), and skip it: on Node 20 the scope is an
 * async hook on every promise and socket, some 1.2 KB of garbage per http run (issue 29).
 */
export function readsThroughLibraries(spec: CheckSpec): boolean {
  switch (spec.type) {
    case 'http':
    case 'tcp':
    case 'tls':
    case 'dns':
      return usesKubernetes(spec);
    default:
      return true;
  }
}

/**
 * A run's observations so far and their samples, for a run that ends before its outcome. The
 * samples are built only if that happens: a check reports progress on every connection, and
 * nearly every run then finishes and throws its progress away.
 */
export interface Progress {
  observations: object;
  samples(): Sample[];
  probeSamples(): ProbeSample[];
}

/**
 * The checks a spec reads a value from (a k8s-rollout's `expect.digestFrom` oci-image check):
 * dependencies it has without naming them in dependsOn (config/dependencies.ts adds them).
 */
function references(spec: CheckSpec): CheckReference[] {
  if (spec.type === 'k8s-rollout' && spec.expect?.digestFrom !== undefined) return [{ name: spec.expect.digestFrom, type: 'oci-image', path: ['expect', 'digestFrom'] }];
  return [];
}

/** A check spec bound to its type's functions, so callers need no switch of their own. */
export interface BoundCheck {
  spec: CheckSpec;
  run(ctx: Omit<RunContext, 'progress'>, onProgress: (progress: Progress) => void): Promise<{ outcome: Outcome<object>; samples: Sample[]; probeSamples: () => ProbeSample[] }>;
  /** Samples for a run that ended without observations (thrown error, timeout). */
  emptySamples(): Sample[];
  /** The blackbox-named samples of such a run (per-phase and size series at 0, as blackbox gives them). */
  emptyProbeSamples(): ProbeSample[];
  /** The overridable target, when the type has one. */
  target: string | undefined;
  /** Runs in the run scope (readsThroughLibraries); absent means they do. */
  readonly scoped?: boolean;
  /** The spec pointed at `target`; `as` says whose meaning the target has (a blackbox module's, for module=). */
  retarget(target: string, as?: 'check' | 'module'): CheckSpec | undefined;
}

/**
 * The spec bound to its check type. `refuseRedirect` (a /probe run retargeted within allowTargets)
 * is handed to every run, which asks it about each redirect hop.
 */
export function bind(spec: CheckSpec, refuseRedirect?: RunContext['refuseRedirect']): BoundCheck {
  switch (spec.type) {
    case 'dns':
      return new Bound(dns.check, spec, refuseRedirect);
    case 'k8s-rollout':
      return new Bound(k8sRollout.check, spec, refuseRedirect);
    case 'cnpg-cluster':
      return new Bound(cnpgCluster.check, spec, refuseRedirect);
    case 'k8s-secret':
      return new Bound(k8sSecret.check, spec, refuseRedirect);
    case 'ingress':
      return new Bound(ingress.check, spec, refuseRedirect);
    case 'openapi':
      return new Bound(openapi.check, spec, refuseRedirect);
    case 'tcp':
      return new Bound(tcp.check, spec, refuseRedirect);
    case 'http':
      return new Bound(http.check, spec, refuseRedirect);
    case 'tls':
      return new Bound(tls.check, spec, refuseRedirect);
    case 'postgres':
      return new Bound(postgres.check, spec, refuseRedirect);
    case 'oci-image':
      return new Bound(ociImage.check, spec, refuseRedirect);
    case 'helm-release':
      return new Bound(helmRelease.check, spec, refuseRedirect);
    case 'flow':
      return new Bound(flow.check, spec, refuseRedirect);
    case 'grpc':
      return new Bound(grpc.check, spec, refuseRedirect);
  }
}

/**
 * The runner's context with the check type's progress and the binding's redirect rule. A class
 * with `signal` a getter on its prototype, not a literal or a spread: a spread would read the
 * signal (making the AbortSignal every run), and a literal's own getter is made per run.
 */
class TypedContext<S extends CheckSpec, O extends object> implements RunContext<O> {
  readonly end: RunContext['end'];
  readonly log: RunContext['log'];
  readonly trace: RunContext['trace'];
  readonly services: RunContext['services'];

  constructor(
    private readonly from: Omit<RunContext, 'progress'>,
    readonly refuseRedirect: RunContext['refuseRedirect'],
    private readonly type: CheckType<S, O>,
    private readonly spec: S,
    private readonly onProgress: (progress: Progress) => void,
  ) {
    this.end = from.end;
    this.log = from.log;
    this.trace = from.trace;
    this.services = from.services;
  }

  get signal(): AbortSignal {
    return this.from.signal;
  }

  progress(observations: O): void {
    this.onProgress(new Seen(this.type, this.spec, observations));
  }

  redact(value: string): void {
    this.from.redact(value);
  }
}

/** A run's progress: its samples made only when asked (a class, so no closures per report). */
class Seen<S extends CheckSpec, O extends object> implements Progress {
  constructor(
    private readonly type: CheckType<S, O>,
    private readonly spec: S,
    readonly observations: O,
  ) {}

  samples(): Sample[] {
    return this.type.samples?.(this.spec, this.observations) ?? [];
  }

  probeSamples(): ProbeSample[] {
    return this.type.probeSamples?.(this.spec, this.observations) ?? [];
  }
}

/** The check types as config reads files with them (config lives below the registry and is handed these). */
export const checkTypes: CheckTypes<CheckSpec, BoundCheck> = { schema: checkSchema, names: CHECK_TYPES, references, bind, module: import.meta.url };

/** A check as loaded with these types: its spec, bound, where it came from. */
export type LoadedCheck = Loaded<CheckSpec, BoundCheck>;

/**
 * A spec bound to its check type. A class, so a loaded check holds its spec, its type and its
 * target and shares the methods: as closures they were four functions and a context per check
 * (some 270 bytes and 5 objects the collector marks, at 100,000 checks half a million).
 */
class Bound<S extends CheckSpec, O extends object> implements BoundCheck {
  readonly target: string | undefined;
  readonly scoped: boolean;

  constructor(
    private readonly type: CheckType<S, O>,
    readonly spec: S,
    private readonly refuseRedirect: RunContext['refuseRedirect'],
  ) {
    this.target = type.target?.get(spec);
    this.scoped = readsThroughLibraries(spec);
  }

  run(ctx: Omit<RunContext, 'progress'>, onProgress: (progress: Progress) => void): Promise<{ outcome: Outcome<object>; samples: Sample[]; probeSamples: () => ProbeSample[] }> {
    const { type, spec } = this;
    const typed = new TypedContext<S, O>(ctx, this.refuseRedirect ?? ctx.refuseRedirect, type, spec, onProgress);
    // One reaction, not an async wrapper around it (issue 29: promise hops per run).
    return type.run(spec, typed).then((outcome) => ({
      outcome,
      samples: type.samples?.(spec, outcome.observations) ?? [],
      probeSamples: () => type.probeSamples?.(spec, outcome.observations) ?? [],
    }));
  }

  emptySamples(): Sample[] {
    return this.type.samples?.(this.spec, undefined) ?? [];
  }

  emptyProbeSamples(): ProbeSample[] {
    return this.type.probeSamples?.(this.spec, undefined) ?? [];
  }

  retarget(target: string, as: 'check' | 'module' = 'check'): CheckSpec | undefined {
    const { type, spec } = this;
    return as === 'module' && type.target?.setFromModule ? type.target.setFromModule(spec, target) : type.target?.set(spec, target);
  }
}
