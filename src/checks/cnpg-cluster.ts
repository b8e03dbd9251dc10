import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { CNPG_CLUSTERS } from '../kube/object-ref.js';
import { kubeSourceFields, namespaceName, objectName } from '../kube/source.js';
import { boundCondition, MAX_CONDITIONS, MAX_NAME, serverText } from '../kube/text-bounds.js';
import type { Failure } from '../results/result.js';
import type { CheckType } from './check-type.js';

export const schema = z.strictObject({
  ...baseFields,
  ...kubeSourceFields,
  type: z.literal('cnpg-cluster'),
  namespace: namespaceName,
  cluster: objectName.meta({ description: 'name of the postgresql.cnpg.io/v1 Cluster' }),
});
export type CnpgClusterSpec = z.infer<typeof schema>;

export const HEALTHY_PHASE = 'Cluster in healthy state';

/**
 * Phases in which the operator is carrying out a change (CloudNativePG api/v1 cluster_types.go);
 * the other non-healthy phases need someone to act.
 */
const TRANSITIONAL_PHASES = new Set([
  'Setting up primary', 'Creating a new replica', 'Upgrading cluster', 'Upgrading Postgres major version', 'Waiting for the instances to become active',
  'Switchover in progress', 'Failing over', 'Promoting to primary cluster', 'Primary instance is being restarted in-place',
  'Primary instance is being restarted without a switchover', 'Online upgrade in progress', 'Applying configuration', 'Cluster upgrade delayed',
]);

/** CloudNativePG marks targetPrimary "pending" while it picks a new primary after a failure. */
const PENDING_FAILOVER = 'pending';

const count = z.number().int().default(0);
/**
 * Every string is cut as it is parsed (text-bounds.ts): the operator's phase reason and
 * condition messages are free text, and a result repeats them. The client has already checked
 * that the answer is a postgresql.cnpg.io/v1 Cluster.
 */
const clusterSchema = z.object({
  spec: z.object({ instances: z.number().int() }),
  status: z
    .object({
      phase: serverText().optional(),
      phaseReason: serverText().optional(),
      instances: count,
      readyInstances: count,
      currentPrimary: serverText(MAX_NAME).optional(),
      targetPrimary: serverText(MAX_NAME).optional(),
      image: serverText(MAX_NAME).optional(),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }))
        .default([])
        .transform((list) => list.slice(0, MAX_CONDITIONS).map(boundCondition)),
    })
    .prefault({}),
});

export interface CnpgClusterObservations {
  namespace: string;
  cluster: string;
  phase: string | undefined;
  phaseReason: string | undefined;
  /** spec.instances: how many the cluster should have. */
  instances: number;
  /** status.instances: how many instance pods exist. */
  currentInstances: number;
  readyInstances: number;
  currentPrimary: string | undefined;
  targetPrimary: string | undefined;
  /** A switchover or failover is under way (currentPrimary differs from targetPrimary). */
  switchover: boolean;
  image: string | undefined;
  conditions: { type: string; status: string; reason?: string | undefined; message?: string | undefined }[];
}

/** A CloudNativePG Cluster: healthy phase, every instance ready, primary settled. */
export const check: CheckType<CnpgClusterSpec, CnpgClusterObservations> = {
  async run(spec, ctx) {
    const client = await ctx.services.kube.client(spec);
    const found = await client.get({ ...CNPG_CLUSTERS, namespace: spec.namespace, name: spec.cluster }, clusterSchema, ctx);
    const { status } = found;
    const observations: CnpgClusterObservations = {
      namespace: spec.namespace,
      cluster: spec.cluster,
      phase: status.phase,
      phaseReason: status.phaseReason,
      instances: found.spec.instances,
      currentInstances: status.instances,
      readyInstances: status.readyInstances,
      currentPrimary: status.currentPrimary,
      targetPrimary: status.targetPrimary,
      switchover: (status.currentPrimary ?? '') !== (status.targetPrimary ?? ''),
      image: status.image,
      conditions: status.conditions,
    };
    ctx.trace('cnpg cluster', { phase: status.phase, instances: found.spec.instances, readyInstances: status.readyInstances, currentPrimary: status.currentPrimary, targetPrimary: status.targetPrimary });
    const failure = judge(observations);
    return failure ? { observations, failure } : { observations };
  },
  samples(_spec, observations) {
    if (!observations) return [];
    return [
      { name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'desired' }, value: observations.instances },
      { name: 'driftwatch_k8s_rollout_replicas', labels: { state: 'ready' }, value: observations.readyInstances },
    ];
  },
};

/** A primary on the move first (it explains the rest), then missing instances, then the phase. */
function judge(o: CnpgClusterObservations): Failure | undefined {
  const phase = o.phase === undefined ? 'no phase yet' : `phase "${o.phase}"`;
  if (o.switchover) {
    if (!o.currentPrimary) return { reason: 'rollout', message: `primary being set up: target ${o.targetPrimary ?? '(none)'} (${phase})` };
    if (o.targetPrimary === PENDING_FAILOVER) return { reason: 'rollout', message: `failover in progress: primary ${o.currentPrimary} is being replaced (${phase})` };
    return { reason: 'rollout', message: `switchover in progress: primary moving from ${o.currentPrimary} to ${o.targetPrimary ?? '(none)'} (${phase})` };
  }
  const inTransition = o.phase !== undefined && TRANSITIONAL_PHASES.has(o.phase);
  if (o.readyInstances < o.instances) {
    return { reason: inTransition ? 'rollout' : 'assertion', message: `cluster degraded: ${o.readyInstances} of ${o.instances} instances ready (${phase})` };
  }
  if (o.phase !== HEALTHY_PHASE) {
    const why = o.phaseReason ? `: ${o.phaseReason}` : '';
    return { reason: inTransition ? 'rollout' : 'assertion', message: `${phase}${why}, expected "${HEALTHY_PHASE}"` };
  }
  return undefined;
}
