import { z } from 'zod';
import type { GetOptions, KubeClient } from './client.js';
import { PODS } from './object-ref.js';
import { cutText, MAX_NAME } from './text-bounds.js';

/** Only what the comparison needs survives parsing: pod names and their containers' images (cut to a name's length below). */
const podListSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string(), deletionTimestamp: z.string().optional() }),
      status: z
        .object({
          phase: z.string().optional(),
          containerStatuses: z.array(z.object({ name: z.string(), image: z.string().default(''), imageID: z.string().default('') })).default([]),
        })
        .prefault({}),
    }),
  ),
});

/** One container of one pod, as the kubelet reports what it runs. */
export interface RunningImage {
  pod: string;
  container: string;
  /** status.containerStatuses[].image: the image as the runtime names it. */
  image: string;
  /** The repository digest of status.containerStatuses[].imageID; undefined when it carries none. */
  digest: string | undefined;
}

/**
 * The images the live pods of a workload run: its selector's pods that are not being deleted
 * and have not finished, and of those the containers named. A container that has not started
 * yet has no imageID, and so no digest. RBAC: `list` on pods in the namespace.
 */
export async function readRunningImages(client: KubeClient, namespace: string, labelSelector: string, containers: readonly string[], options: GetOptions): Promise<RunningImage[]> {
  const pods = await client.list({ ...PODS, namespace }, { labelSelector }, podListSchema, options);
  const running: RunningImage[] = [];
  for (const pod of pods.items) {
    if (pod.metadata.deletionTimestamp !== undefined || pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    for (const name of containers) {
      const status = pod.status.containerStatuses.find((c) => c.name === name);
      running.push({ pod: cutText(pod.metadata.name, MAX_NAME), container: cutText(name, MAX_NAME), image: cutText(status?.image ?? '', MAX_NAME), digest: digestOfImageID(status?.imageID ?? '') });
    }
  }
  return running.sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));
}

/**
 * The manifest digest in an imageID: containerd and CRI-O report `repo@sha256:...`, dockershim
 * `docker-pullable://repo@sha256:...`. A bare `sha256:...` (docker://sha256:..., an image loaded
 * locally rather than pulled) is the image's config ID, not a registry digest: undefined.
 */
export function digestOfImageID(imageID: string): string | undefined {
  const at = imageID.lastIndexOf('@');
  if (at < 0) return undefined;
  const digest = imageID.slice(at + 1);
  return /^sha(256|512):[0-9a-f]{64,128}$/.test(digest) ? digest : undefined;
}
