import type { KubeClient } from '../kube/client.js';
import { parseImage } from '../kube/image-ref.js';
import { cutText, MAX_SERVER_TEXT } from '../kube/text-bounds.js';
import { readRunningImages, type RunningImage } from '../kube/running-images.js';
import { CheckFailure, type Failure } from '../results/result.js';
import type { RunContext } from './check-type.js';

/** At most this many pods are named in observations and messages. */
const MAX_PODS = 20;
const MAX_NAMED = 5;
/** At most this many different digests are named in a message (each pod may run its own). */
const MAX_DIGESTS = 5;

/** What k8s-rollout's expect.digestFrom observed. */
export interface DigestObservation {
  /** The oci-image check the expected digest comes from. */
  from: string;
  /** The image that check resolves, {release} filled in. */
  image?: string;
  /** The digest the registry serves for it now. */
  expected?: string;
  /** The containers compared, pod by pod (at most 20). */
  running: { pod: string; container: string; digest: string | null }[];
  match: boolean;
}

export interface DigestQuery {
  /** expect.digestFrom: the name of an oci-image check. */
  from: string;
  client: KubeClient;
  namespace: string;
  /** The workload's selector, in labelSelector syntax. */
  selector: string;
  /** The pod template's containers, and the one the check names. */
  containers: { name: string; image: string }[];
  container: string | undefined;
  desired: number;
  /** "deployment hub", for messages. */
  what: string;
}

/**
 * Whether the workload's live pods run the manifest the registry serves for the referenced
 * oci-image check's tag now: their containers' imageID digests against that check's digest,
 * asked of the registry in this run (with that check's credentials), so a tag re-pushed after
 * the rollout is caught. Compared: the named container, else those of the image's repository,
 * else the first.
 */
export async function judgeRunningDigest(query: DigestQuery, ctx: RunContext): Promise<{ digest: DigestObservation; failure?: Failure }> {
  const digest: DigestObservation = { from: query.from, running: [], match: false };
  let expected: { image: string; digest: string } | undefined;
  try {
    expected = await ctx.services.imageDigest(query.from, ctx);
  } catch (err) {
    if (!(err instanceof CheckFailure)) throw err;
    return { digest, failure: { reason: err.reason, message: `expect.digestFrom ${query.from}: ${err.message}` } };
  }
  if (expected === undefined) {
    return { digest, failure: { reason: 'config', message: `expect.digestFrom: no oci-image check named ${query.from}` } };
  }
  Object.assign(digest, { image: expected.image, expected: expected.digest });
  if (query.selector === '') return { digest, failure: { reason: 'error', message: `${query.what} has no pod selector: its pods cannot be found` } };
  const names = containersToCompare(query, expected.image);
  const running = await readRunningImages(query.client, query.namespace, query.selector, names, ctx);
  digest.running = running.slice(0, MAX_PODS).map((r) => ({ pod: r.pod, container: r.container, digest: r.digest ?? null }));
  ctx.trace('running digests', { expected: expected.digest, running: digest.running });
  if (running.length === 0) {
    digest.match = query.desired === 0;
    if (digest.match) return { digest };
    return { digest, failure: { reason: 'assertion', message: `no live pods of ${query.what} (selector ${cutText(query.selector, MAX_SERVER_TEXT)}) to compare with ${expected.image} ${expected.digest}` } };
  }
  const wrong = running.filter((r) => r.digest !== expected.digest);
  digest.match = wrong.length === 0;
  if (digest.match) return { digest };
  return { digest, failure: { reason: 'assertion', message: `${describeWrong(wrong)}, expected ${expected.digest}, which ${expected.image} is now (oci-image check ${query.from}; ${query.what})` } };
}

function containersToCompare(query: DigestQuery, image: string): string[] {
  if (query.container !== undefined) return [query.container];
  const repository = parseImage(image).repository;
  const same = query.containers.filter((c) => parseImage(c.image).repository === repository);
  return (same.length > 0 ? same : query.containers.slice(0, 1)).map((c) => c.name);
}

/** "pods hub-a, hub-b run sha256:...; pod hub-c has no image digest yet" */
function describeWrong(wrong: RunningImage[]): string {
  const groups = new Map<string, string[]>();
  for (const r of wrong) groups.set(r.digest ?? '', [...(groups.get(r.digest ?? '') ?? []), r.pod]);
  const described = [...groups]
    .slice(0, MAX_DIGESTS)
    .map(([digest, pods]) => {
      const unique = [...new Set(pods)];
      const named = unique.length > MAX_NAMED ? `${unique.slice(0, MAX_NAMED).join(', ')} and ${unique.length - MAX_NAMED} more` : unique.join(', ');
      const who = `${unique.length === 1 ? 'pod' : 'pods'} ${named}`;
      return digest === '' ? `${who} ${unique.length === 1 ? 'has' : 'have'} no image digest yet` : `${who} ${unique.length === 1 ? 'runs' : 'run'} ${digest}`;
    });
  if (groups.size > MAX_DIGESTS) described.push(`${groups.size - MAX_DIGESTS} more digests`);
  return described.join('; ');
}
