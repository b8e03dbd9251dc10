/**
 * The per-check metric families (DESIGN section 3). Names are fixed: the Grafana dashboard, the
 * alert rules and the Helm chart read them. Every series carries check, type, the check's static
 * labels and, when set, location.
 */
export const FAMILIES = {
  driftwatch_check_success: { kind: 'gauge', help: 'Whether the last run of the check passed (1) or failed (0).' },
  driftwatch_check_duration_seconds: { kind: 'gauge', help: 'Duration of the last run of the check.' },
  driftwatch_check_last_run_timestamp_seconds: { kind: 'gauge', help: 'When the last run of the check finished (Unix time).' },
  driftwatch_check_runs_total: { kind: 'counter', help: 'Runs of the check by result (success or failure).' },
  driftwatch_check_failures_total: { kind: 'counter', help: 'Failed runs of the check by reason.' },
  driftwatch_check_blocked: { kind: 'gauge', help: 'Whether the check is blocked (1): not run because a dependency (dependsOn) fails. Only checks with dependsOn.' },
  driftwatch_dns_answer_match: { kind: 'gauge', help: "Whether this resolver's answer meets the check's expectation." },
  driftwatch_dns_drift: { kind: 'gauge', help: "Whether some resolver's answer differs from the expected set." },
  driftwatch_dns_answer_info: { kind: 'gauge', help: 'The current answers per resolver (value always 1).' },
  driftwatch_http_status_code: { kind: 'gauge', help: 'HTTP status code of the last response, via public DNS or a pinned IP.' },
  driftwatch_http_phase_duration_seconds: { kind: 'gauge', help: 'Duration of each HTTP phase of the last run.' },
  driftwatch_endpoints: { kind: 'gauge', help: "A Service's endpoints by state in the last run (passing, failing, not-ready) of an http check with endpointsFrom." },
  driftwatch_flow_step_success: { kind: 'gauge', help: 'Whether each step of a flow passed in its last run (0 when it failed or did not run).' },
  driftwatch_flow_step_duration_seconds: { kind: 'gauge', help: "Duration of each flow step's request in its last run (0 when it did not run)." },
  driftwatch_tls_cert_expiry_timestamp_seconds: { kind: 'gauge', help: 'notAfter of the leaf certificate (Unix time).' },
  driftwatch_ingress_verdict: { kind: 'gauge', help: 'Current verdict of the ingress check (value always 1).' },
  driftwatch_openapi_missing_paths: { kind: 'gauge', help: 'How many required OpenAPI paths (or methods) are missing.' },
  driftwatch_postgres_primary: { kind: 'gauge', help: 'Whether the database reached is the primary (not in recovery).' },
  driftwatch_k8s_rollout_replicas: { kind: 'gauge', help: 'Replicas of the rollout by state (desired, updated, ready, available).' },
  driftwatch_k8s_image_match: { kind: 'gauge', help: 'Whether the running image equals the expected one.' },
} as const;

export type SeriesName = keyof typeof FAMILIES;
export type FamilyKind = (typeof FAMILIES)[SeriesName]['kind'];
