import { z } from 'zod';
import { expandRelease } from '../config/release.js';
import { baseFields, checkName } from '../config/base.js';
import type { KubeClient } from '../kube/client.js';
import { describeExpectation, imageMatches, parseImage, type ImageExpectation } from '../kube/image-ref.js';
import { DAEMONSETS, DEPLOYMENTS, STATEFULSETS } from '../kube/object-ref.js';
import { daemonSetRollout, daemonSetSchema, deploymentRollout, deploymentSchema, statefulSetRollout, statefulSetSchema, type Rollout } from '../kube/rollout-status.js';
import { formatLabelSelector, type LabelSelector } from '../kube/label-selector.js';
import { kubeSourceFields, namespaceName } from '../kube/source.js';
import { listSome } from '../kube/text-bounds.js';
import { CheckFailure, type Failure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';
import type { Sample } from '../results/run.js';
import { judgeRunningDigest, type DigestObservation } from './rollout-digest.js';

// kubectl's names for the three kinds (deployment/hub, deploy/hub, deployments.apps/hub ...).
const KINDS = { deployment: ['deployment', 'deployments', 'deploy'], statefulset: ['statefulset', 'statefulsets', 'sts'], daemonset: ['daemonset', 'daemonsets', 'ds'] } as const;
type Kind = keyof typeof KINDS;
/** Containers (and distinct running images) listed in observations; a pod template may have thousands. */
const MAX_CONTAINERS = 20;
const RESOURCE = /^(deployments?|deploy|statefulsets?|sts|daemonsets?|ds)(?:\.apps)?\/([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)$/;

const expectSchema = z
  .strictObject({
    image: z.string().min(1).optional().meta({ description: 'image repository the container must run, e.g. registry.example/hub' }),
    tag: z.string().min(1).optional().meta({ description: 'image tag the container must run; "release" = the release under verification (--release TAG)' }),
    digestFrom: checkName.optional().meta({ description: 'name of an oci-image check: the pods must run the digest its registry serves for its tag now' }),
  })
  .refine((e) => e.image === undefined || e.tag === undefined || !hasTagOrDigest(e.image), {
    error: 'give the tag in tag, not in image as well (image is the repository: registry.example/hub)',
    path: ['image'],
  });

export const schema = z.strictObject({
  ...baseFields,
  ...kubeSourceFields,
  type: z.literal('k8s-rollout'),
  namespace: namespaceName,
  resource: z
    .string()
    .refine((text) => parseResource(text) !== undefined, { error: 'must be KIND/NAME with KIND deployment, statefulset or daemonset (e.g. deployment/hub)' })
    .meta({ description: 'deployment/NAME, statefulset/NAME or daemonset/NAME (kubectl short names too)', pattern: RESOURCE.source }),
  container: z.string().min(1).optional().meta({ description: 'the container the image expectation applies to; default: the containers of the expected repository, else the first' }),
  expect: expectSchema.optional(),
});
export type K8sRolloutSpec = z.infer<typeof schema>;

export interface K8sRolloutObservations extends Omit<Rollout, 'state'> {
  kind: Kind;
  namespace: string;
  name: string;
  state: Rollout['state'];
  /** How many containers the pod template has, when more than the first MAX_CONTAINERS listed in `containers`. */
  containerCount?: number;
  /** Present when the check has an image expectation. */
  image?: { expected: string; container: string | undefined; running: string[]; match: boolean };
  /** Present with expect.digestFrom. */
  digest?: DigestObservation;
}

/** A Deployment, StatefulSet or DaemonSet judged like `kubectl rollout status`, plus the image it rolls out. */
export const check: CheckType<K8sRolloutSpec, K8sRolloutObservations> = {
  async run(spec, ctx) {
    const target = parseResource(spec.resource);
    if (!target) throw new CheckFailure('config', `resource "${spec.resource}" is not KIND/NAME`);
    const { kind, name } = target;
    const expected = expectation(spec, ctx);
    const client = await ctx.services.kube.client(spec);
    const { rollout, selector } = await readRollout(client, kind, spec, name, ctx);
    ctx.trace('rollout', { state: rollout.state, message: rollout.message, replicas: rollout.replicas });
    const observations: K8sRolloutObservations = { kind, namespace: spec.namespace, name, ...rollout, ...boundedContainers(rollout.containers) };
    if ('failure' in expected) return { observations, failure: expected.failure };
    let imageFailure: Failure | undefined;
    if (expected.wanted) {
      const { image, failure } = judgeImage(spec, rollout, expected.wanted, `${kind} ${name}`);
      observations.image = image;
      imageFailure = failure;
    }
    let digestFailure: Failure | undefined;
    if (spec.expect?.digestFrom !== undefined) {
      const from = spec.expect.digestFrom;
      const judged = await judgeRunningDigest(
        { from, client, namespace: spec.namespace, selector, containers: rollout.containers, container: spec.container, desired: rollout.replicas.desired, what: `${kind} ${name}` },
        ctx,
      );
      observations.digest = judged.digest;
      digestFailure = judged.failure;
    }
    if (rollout.state === 'unsupported') return { observations, failure: { reason: 'config', message: rollout.message } };
    // A wrong image outranks an unfinished rollout: finishing it would not bring the expected release.
    if (imageFailure) return { observations, failure: imageFailure };
    if (rollout.state !== 'complete') return { observations, failure: { reason: 'rollout', message: rollout.message } };
    // A digest is judged on a finished rollout: during one, old pods still run the old digest.
    if (digestFailure) return { observations, failure: digestFailure };
    return { observations };
  },
  samples(spec, observations) {
    if (!observations) return [];
    const samples: Sample[] = Object.entries(observations.replicas).map(([state, value]) => ({ name: 'driftwatch_k8s_rollout_replicas', labels: { state }, value }));
    const matches = [observations.image?.match, observations.digest?.expected === undefined ? undefined : observations.digest.match].filter((m) => m !== undefined);
    if (spec.expect && matches.length > 0) samples.push({ name: 'driftwatch_k8s_image_match', value: matches.every(Boolean) ? 1 : 0 });
    return samples;
  },
};

/** The first containers for observations, and how many there are when that is not all (the judgement uses all). */
function boundedContainers(containers: Rollout['containers']): Pick<K8sRolloutObservations, 'containers' | 'containerCount'> {
  if (containers.length <= MAX_CONTAINERS) return { containers };
  return { containers: containers.slice(0, MAX_CONTAINERS), containerCount: containers.length };
}

function parseResource(text: string): { kind: Kind; name: string } | undefined {
  const match = RESOURCE.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const word = match[1];
  const kind = (Object.keys(KINDS) as Kind[]).find((k) => (KINDS[k] as readonly string[]).includes(word));
  return kind ? { kind, name: match[2] } : undefined;
}

function hasTagOrDigest(image: string): boolean {
  return image.includes('@') || image.lastIndexOf(':') > image.lastIndexOf('/');
}

/** The image expectation with `release` resolved; a missing --release is a config failure. */
function expectation(spec: K8sRolloutSpec, ctx: RunContext): { wanted: ImageExpectation | undefined } | { failure: Failure } {
  if (!spec.expect || (spec.expect.image === undefined && spec.expect.tag === undefined)) return { wanted: undefined };
  let tag = spec.expect.tag;
  if (tag === 'release') {
    tag = ctx.services.release;
    if (tag === undefined) return { failure: { reason: 'config', message: 'expect.tag is "release" but no release was given (driftwatch run/serve --release TAG)' } };
  } else if (tag !== undefined) {
    tag = expandRelease(tag, ctx.services.release, 'expect.tag');
  }
  if (tag === undefined && spec.expect.image !== undefined && hasTagOrDigest(spec.expect.image)) {
    const parsed = parseImage(spec.expect.image);
    return { wanted: { repository: parsed.repository, tag: parsed.tag } };
  }
  return { wanted: { repository: spec.expect.image, tag } };
}

/** The rollout as kubectl judges it, and the workload's pod selector (labelSelector syntax). */
async function readRollout(client: KubeClient, kind: Kind, spec: K8sRolloutSpec, name: string, ctx: RunContext): Promise<{ rollout: Rollout; selector: string }> {
  const at = { namespace: spec.namespace, name };
  // apps/v1 requires a selector; an empty one (matching every pod) is refused by judgeRunningDigest.
  const selectorOf = (workload: { spec: { selector?: LabelSelector | undefined } }) => formatLabelSelector(workload.spec.selector ?? { matchLabels: {}, matchExpressions: [] });
  switch (kind) {
    case 'deployment': {
      const workload = await client.get({ ...DEPLOYMENTS, ...at }, deploymentSchema, ctx);
      return { rollout: deploymentRollout(workload), selector: selectorOf(workload) };
    }
    case 'statefulset': {
      const workload = await client.get({ ...STATEFULSETS, ...at }, statefulSetSchema, ctx);
      return { rollout: statefulSetRollout(workload), selector: selectorOf(workload) };
    }
    case 'daemonset': {
      const workload = await client.get({ ...DAEMONSETS, ...at }, daemonSetSchema, ctx);
      return { rollout: daemonSetRollout(workload), selector: selectorOf(workload) };
    }
  }
}

/**
 * Which containers the expectation applies to: the named one; else those of the expected
 * repository; else the first (kubectl's default container).
 */
function judgeImage(spec: K8sRolloutSpec, rollout: Rollout, wanted: ImageExpectation, what: string): { image: NonNullable<K8sRolloutObservations['image']>; failure?: Failure } {
  const expected = describeExpectation(wanted);
  const all = listSome(rollout.containers.map((c) => `${c.name}=${c.image}`)) || 'none';
  let targets = rollout.containers;
  if (spec.container !== undefined) targets = targets.filter((c) => c.name === spec.container);
  else if (wanted.repository !== undefined) {
    const repository = parseImage(wanted.repository).repository;
    const same = targets.filter((c) => parseImage(c.image).repository === repository);
    targets = same.length > 0 ? same : targets;
  } else targets = targets.slice(0, 1);
  const running = [...new Set(targets.map((c) => c.image))];
  const image = { expected, container: spec.container, running: running.slice(0, MAX_CONTAINERS), match: targets.length > 0 && targets.every((c) => imageMatches(c.image, wanted)) };
  if (targets.length === 0) return { image, failure: { reason: 'assertion', message: `container ${spec.container ?? ''} not found in ${what} (containers: ${all})` } };
  if (!image.match) return { image, failure: { reason: 'assertion', message: `image ${listSome(running)} running, expected ${expected} (${what})` } };
  return { image };
}
