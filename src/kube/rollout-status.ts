import { z } from 'zod';
import { labelSelectorSchema } from './label-selector.js';
import { boundCondition, cutText, MAX_CONDITIONS, MAX_NAME, serverText } from './text-bounds.js';

/*
 * Rollout judgement as `kubectl rollout status` makes it (k8s.io/kubectl/pkg/polymorphichelpers,
 * rollout_status.go: DeploymentStatusViewer, StatefulSetStatusViewer, DaemonSetStatusViewer).
 * Status integers are omitted by the API server when zero (omitempty), hence the defaults.
 */

const count = z.number().int().default(0);
// Server text is cut as it is read (text-bounds.ts): a 7 MB condition message must not become a
// 7 MB result message, observation and trace. Per list, not per item: a transform per item of a
// 10,000-container template costs the event loop tens of milliseconds.
const container = z.object({ name: z.string(), image: z.string().default('') });
const conditions = z
  .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() }))
  .default([])
  .transform((list) => list.slice(0, MAX_CONDITIONS).map(boundCondition));
const metadata = z.object({ generation: count });
const template = z.object({ spec: z.object({ containers: z.array(container).default([]), initContainers: z.array(container).default([]) }) });
const strategy = z.object({
  type: serverText().default('RollingUpdate'),
  rollingUpdate: z.object({ partition: z.number().int().optional() }).optional(),
});

export const deploymentSchema = z.object({
  metadata,
  spec: z.object({ replicas: z.number().int().optional(), selector: labelSelectorSchema.optional(), template }),
  status: z
    .object({ observedGeneration: count, replicas: count, updatedReplicas: count, readyReplicas: count, availableReplicas: count, conditions })
    .prefault({}),
});

export const statefulSetSchema = z.object({
  metadata,
  spec: z.object({ replicas: z.number().int().optional(), selector: labelSelectorSchema.optional(), updateStrategy: strategy.prefault({}), template }),
  status: z
    .object({
      observedGeneration: count, replicas: count, updatedReplicas: count, readyReplicas: count, availableReplicas: count, currentReplicas: count,
      currentRevision: serverText().optional(), updateRevision: serverText().optional(), conditions,
    })
    .prefault({}),
});

export const daemonSetSchema = z.object({
  metadata,
  spec: z.object({ selector: labelSelectorSchema.optional(), updateStrategy: strategy.prefault({}), template }),
  status: z
    .object({
      observedGeneration: count, desiredNumberScheduled: count, updatedNumberScheduled: count, numberReady: count, numberAvailable: count,
      conditions,
    })
    .prefault({}),
});

export type Condition = z.infer<typeof conditions>[number];

/** One workload's rollout, whatever its kind. */
export interface Rollout {
  /** complete; progressing (kubectl would keep waiting); stuck (kubectl fails); unsupported (OnDelete). */
  state: 'complete' | 'progressing' | 'stuck' | 'unsupported';
  /** kubectl's words for the state. */
  message: string;
  generation: number;
  observedGeneration: number;
  replicas: { desired: number; updated: number; ready: number; available: number };
  conditions: Condition[];
  containers: { name: string; image: string }[];
}

export function deploymentRollout(d: z.infer<typeof deploymentSchema>): Rollout {
  const { status } = d;
  const desired = d.spec.replicas ?? 1;
  const base = summary(d.metadata.generation, status, { desired, updated: status.updatedReplicas, ready: status.readyReplicas, available: status.availableReplicas }, d.spec.template);
  if (d.metadata.generation > status.observedGeneration) return { ...base, state: 'progressing', message: 'waiting for the deployment spec update to be observed' };
  const progressing = status.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const detail = progressing.message ? ` (${progressing.message})` : '';
    return { ...base, state: 'stuck', message: `rollout stuck: progress deadline exceeded${detail}` };
  }
  if (status.updatedReplicas < desired) return { ...base, state: 'progressing', message: `rollout in progress: ${status.updatedReplicas} out of ${desired} new replicas have been updated` };
  if (status.replicas > status.updatedReplicas) return { ...base, state: 'progressing', message: `rollout in progress: ${status.replicas - status.updatedReplicas} old replicas are pending termination` };
  if (status.availableReplicas < status.updatedReplicas) return { ...base, state: 'progressing', message: `rollout in progress: ${status.availableReplicas} of ${status.updatedReplicas} updated replicas are available` };
  return { ...base, state: 'complete', message: 'successfully rolled out' };
}

export function statefulSetRollout(s: z.infer<typeof statefulSetSchema>): Rollout {
  const { status } = s;
  const desired = s.spec.replicas ?? 1;
  const base = summary(s.metadata.generation, status, { desired, updated: status.updatedReplicas, ready: status.readyReplicas, available: status.availableReplicas }, s.spec.template);
  const { type, rollingUpdate } = s.spec.updateStrategy;
  if (type !== 'RollingUpdate') return { ...base, state: 'unsupported', message: `rollout status is only available for the RollingUpdate strategy (this statefulset uses ${type})` };
  if (status.observedGeneration === 0 || s.metadata.generation > status.observedGeneration) {
    return { ...base, state: 'progressing', message: 'waiting for the statefulset spec update to be observed' };
  }
  if (status.readyReplicas < desired) return { ...base, state: 'progressing', message: `rollout in progress: waiting for ${desired - status.readyReplicas} pods to be ready` };
  if (rollingUpdate?.partition !== undefined) {
    const wanted = desired - rollingUpdate.partition;
    if (status.updatedReplicas < wanted) {
      return { ...base, state: 'progressing', message: `rollout in progress: partitioned roll out, ${status.updatedReplicas} out of ${wanted} new pods have been updated` };
    }
    return { ...base, state: 'complete', message: `partitioned roll out complete: ${status.updatedReplicas} new pods have been updated` };
  }
  if (status.updateRevision !== status.currentRevision) {
    return { ...base, state: 'progressing', message: `rollout in progress: ${status.updatedReplicas} pods at revision ${status.updateRevision ?? '(none)'}` };
  }
  return { ...base, state: 'complete', message: `rolling update complete: ${status.currentReplicas} pods at revision ${status.currentRevision ?? '(none)'}` };
}

export function daemonSetRollout(d: z.infer<typeof daemonSetSchema>): Rollout {
  const { status } = d;
  const desired = status.desiredNumberScheduled;
  const base = summary(d.metadata.generation, status, { desired, updated: status.updatedNumberScheduled, ready: status.numberReady, available: status.numberAvailable }, d.spec.template);
  const { type } = d.spec.updateStrategy;
  if (type !== 'RollingUpdate') return { ...base, state: 'unsupported', message: `rollout status is only available for the RollingUpdate strategy (this daemonset uses ${type})` };
  if (d.metadata.generation > status.observedGeneration) return { ...base, state: 'progressing', message: 'waiting for the daemonset spec update to be observed' };
  if (status.updatedNumberScheduled < desired) return { ...base, state: 'progressing', message: `rollout in progress: ${status.updatedNumberScheduled} out of ${desired} new pods have been updated` };
  if (status.numberAvailable < desired) return { ...base, state: 'progressing', message: `rollout in progress: ${status.numberAvailable} of ${desired} updated pods are available` };
  return { ...base, state: 'complete', message: 'successfully rolled out' };
}

function summary(
  generation: number,
  status: { observedGeneration: number; conditions: Condition[] },
  replicas: Rollout['replicas'],
  podTemplate: z.infer<typeof template>,
): Omit<Rollout, 'state' | 'message'> {
  const containers = [...podTemplate.spec.containers, ...podTemplate.spec.initContainers].map(({ name, image }) => ({ name: cutText(name, MAX_NAME), image: cutText(image, MAX_NAME) }));
  return { generation, observedGeneration: status.observedGeneration, replicas, conditions: status.conditions, containers };
}
