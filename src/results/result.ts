/** The closed set of failure reasons (DESIGN section 2); they are metric label values. */
export const REASONS = ['timeout', 'dns', 'connect', 'tls', 'status', 'assertion', 'auth', 'rollout', 'config', 'error'] as const;
export type Reason = (typeof REASONS)[number];

export interface Failure {
  reason: Reason;
  /** States expected and actual: "status 404, expected 401". */
  message: string;
}

/** One step of a run, kept for /probe?debug=true. */
export interface Step {
  atMs: number;
  step: string;
  data?: Record<string, unknown>;
}

/**
 * A check that was not run because a dependency (dependsOn) fails or is blocked itself. It is
 * not a failure of its own: it has no reason, and is not counted in the failure metrics.
 */
export interface Blocked {
  /** The direct dependencies that stopped it. */
  by: string[];
  /** The failing checks at the root of it (first broken links): `by` itself unless those are blocked too. */
  roots: string[];
}

/** What one run of a check produced; the same JSON in /probe, /api/v1 and run --json. */
export interface Result {
  name: string;
  type: string;
  ok: boolean;
  /** Absent when ok, and when blocked. */
  reason?: Reason;
  message: string;
  /** Present when the check was not run because of its dependencies (ok is false then). */
  blocked?: Blocked;
  startedAt: string;
  durationMs: number;
  observations: Record<string, unknown>;
  steps?: Step[];
}

/**
 * Thrown by a check to fail with a chosen reason; anything else thrown is classified by the
 * runner from its error code. Checks usually return a failure instead of throwing.
 */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
  }
}
