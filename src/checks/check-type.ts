import type { RunLog } from '../results/log.js';
import type { Failure } from '../results/result.js';
import type { ProbeSample, Sample } from '../results/run.js';
import type { KubeClients } from '../kube/clients.js';
import type { Redactions } from '../results/redactions.js';
import type { EndSignal } from '../results/end-signal.js';

/** Shared, daemon-wide services a check may need, created by the caller and passed in. */
export interface Services {
  /** The release under verification (--release TAG); rollout checks expect this image tag. */
  release: string | undefined;
  /** Kubernetes API clients, one per kubeconfig/context (or the service account), loaded on first use. */
  kube: KubeClients;
  /**
   * The image and the digest its registry serves now, as the loaded oci-image check of that name
   * (any file, any shard) resolves them with its own credentials, CA and pinned address: what
   * k8s-rollout's expect.digestFrom compares the running pods with. Undefined when no oci-image
   * check has that name; rejects with the CheckFailure that check would fail with. A capability
   * rather than the other check's spec, so this file names no check type (the registry, which
   * lists them all, imports it).
   */
  imageDigest(check: string, ctx: RunContext): Promise<{ image: string; digest: string } | undefined>;
  /** Credentials revealed or received by any check so far: every result is scrubbed of them all. */
  redactions: Redactions;
}

/** Everything a check gets for one run; the runner owns timeouts, metrics, state and logging. */
export interface RunContext<O extends object = object> {
  /** Aborted with the reason when the run ends early (timeout, cancel). Made on first read. */
  readonly signal: AbortSignal;
  /**
   * The same end without an AbortSignal, for I/O that only needs to hear of it (httpRequest):
   * on Node 20 making the signal costs a run's worth of old-space garbage (end-signal.ts).
   */
  readonly end: EndSignal;
  log: RunLog;
  /** Records a step of the run for /probe?debug=true; cheap when debug is off. */
  trace(step: string, data?: Record<string, unknown>): void;
  /**
   * What the run has seen so far (the address dialled, the phases done). A run cut off by its
   * timeout reports the last of these as its observations instead of none, as blackbox keeps
   * what a probe measured before its deadline.
   */
  progress(observations: O): void;
  /**
   * Registers a credential the check obtained or built while running (a registry's bearer token,
   * the Basic header made from a password, a kubeconfig's token): the runner scrubs the result
   * of it, in every form a target may echo it, as it does the spec's own secrets.
   */
  redact(value: string): void;
  services: Services;
  /**
   * Set on a /probe run retargeted within allowTargets: why a redirect to `url` is refused, or
   * undefined when the URL is allowed too. A check that follows redirects asks it for every hop.
   */
  refuseRedirect?: ((url: string) => string | undefined) | undefined;
}

export interface Outcome<O> {
  observations: O;
  /** Absent when the check passed. */
  failure?: Failure;
  /** What a passed run says instead of "ok" (the ingress check's healthy diagnosis). */
  message?: string;
}

/**
 * How a check type runs. One module per type under src/checks/, exporting `schema` (a strict
 * zod object with baseFields and a literal `type`) and `check` (this interface); listed once in
 * registry.ts.
 */
export interface CheckType<S extends { type: string; name: string }, O extends object> {
  run(spec: S, ctx: RunContext<O>): Promise<Outcome<O>>;
  /** Type-specific metric samples (core metrics are the runner's); observations may be absent after a thrown error or timeout. */
  samples?(spec: S, observations: O | undefined): Sample[];
  /** blackbox_exporter-named samples beyond probe_success and probe_duration_seconds. */
  probeSamples?(spec: S, observations: O | undefined): ProbeSample[];
  /**
   * The target a caller of /probe may override within the check's allowTargets. `setFromModule`
   * reads it as blackbox_exporter's prober of the same kind does, for /probe?module= (a dns
   * module's target is the name server, not the name); without it, `set` serves both.
   */
  target?: { get(spec: S): string; set(spec: S, target: string): S | undefined; setFromModule?(spec: S, target: string): S | undefined };
}
