import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { z } from 'zod';
import { CheckFailure } from '../result.js';
import type { GetOptions, KubeClient } from './client.js';
import { SECRETS } from './object-ref.js';

/*
 * Helm 3's storage driver "secret" (helm.sh/helm/v3/pkg/storage/driver/secrets.go): one Secret per
 * revision, named sh.helm.release.v1.NAME.vN, type helm.sh/release.v1, labelled owner=helm,
 * name=NAME, status=..., version=N; data.release is base64(gzip(JSON of release.Release)) inside
 * the Secret's own base64.
 */

const gunzipAsync = promisify(gunzip);
/** Helm refuses releases over 1 MiB compressed (a Secret's limit); JSON of that is well below this. */
const MAX_RELEASE_JSON_BYTES = 32 * 1024 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b];

/** One revision as its Secret's labels tell it (a metadata-only list: no release data sent). */
export interface HelmRevision {
  revision: number;
  status: string;
  secret: string;
}

/** What the check needs of a release; the manifest, hooks, chart templates and the rest of the values are dropped while parsing. */
export interface HelmRelease {
  revision: number;
  status: string;
  description: string | undefined;
  chart: string | undefined;
  chartVersion: string | undefined;
  appVersion: string | undefined;
  firstDeployed: string | undefined;
  lastDeployed: string | undefined;
  /** The requested value paths, user-supplied values (--set, -f) first, then the chart's defaults; only scalars. */
  values: Record<string, string | number | boolean | null | undefined>;
}

const metadataList = z.object({
  items: z.array(z.object({ metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).default({}) }) })),
});

const releaseSecretList = z.object({
  items: z.array(z.object({ type: z.string().optional(), data: z.object({ release: z.string() }) })),
});

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const releaseJson = z.object({
  version: z.number().int(),
  info: z.object({
    status: z.string(),
    description: z.string().optional(),
    first_deployed: z.string().optional(),
    last_deployed: z.string().optional(),
  }),
  chart: z.object({ metadata: z.object({ name: z.string().optional(), version: z.string().optional(), appVersion: z.string().optional() }).prefault({}), values: z.unknown().optional() }).prefault({}),
  config: z.unknown().optional(),
});

/**
 * Every revision of release NAME, newest first, from the Secrets' labels: a list with
 * labelSelector owner=helm,name=NAME that asks for metadata only, as `helm history` finds them.
 */
export async function listHelmRevisions(client: KubeClient, namespace: string, name: string, options: GetOptions): Promise<HelmRevision[]> {
  const found = await client.list({ ...SECRETS, namespace }, { labelSelector: `owner=helm,name=${name}`, metadataOnly: true }, metadataList, options);
  const prefix = `sh.helm.release.v1.${name}.v`;
  return found.items
    .filter((item) => item.metadata.name.startsWith(prefix))
    .map((item) => ({ revision: Number(item.metadata.labels.version ?? item.metadata.name.slice(prefix.length)), status: item.metadata.labels.status ?? 'unknown', secret: item.metadata.name }))
    .filter((r) => Number.isInteger(r.revision))
    .sort((a, b) => b.revision - a.revision);
}

/**
 * One revision's release record: the one Secret, listed by field selector metadata.name (so
 * `list` is the only verb the check needs), decoded, and narrowed to HelmRelease at once.
 */
export async function readHelmRelease(client: KubeClient, namespace: string, revision: HelmRevision, valuePaths: readonly string[], options: GetOptions): Promise<HelmRelease> {
  const query = { labelSelector: 'owner=helm', fieldSelector: `metadata.name=${revision.secret}` };
  const found = await client.list({ ...SECRETS, namespace }, query, releaseSecretList, options);
  const secret = found.items[0];
  if (!secret) throw new CheckFailure('assertion', `helm release Secret ${revision.secret} not found in namespace ${namespace} (deleted meanwhile?)`);
  const parsed = releaseJson.safeParse(await decodeRelease(secret.data.release, revision.secret));
  // Zod's issues name paths and types only, never values.
  if (!parsed.success) throw new CheckFailure('error', `helm release Secret ${revision.secret}: not a Helm 3 release record (${parsed.error.issues.slice(0, 2).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  const { info, chart, config } = parsed.data;
  const values: HelmRelease['values'] = {};
  for (const path of valuePaths) {
    const value = valueAt(config, path) ?? valueAt(chart.values, path);
    const shown = scalar.safeParse(value);
    values[path] = value === undefined ? undefined : shown.success ? shown.data : '(not a single value)';
  }
  return {
    revision: parsed.data.version,
    status: info.status,
    description: info.description?.slice(0, 300),
    chart: chart.metadata.name,
    chartVersion: chart.metadata.version,
    appVersion: chart.metadata.appVersion,
    firstDeployed: info.first_deployed,
    lastDeployed: info.last_deployed,
    values,
  };
}

/** base64 (the Secret's) -> base64 (Helm's) -> gzip -> JSON; Helm also reads records stored without gzip. */
async function decodeRelease(data: string, secret: string): Promise<unknown> {
  const bytes = Buffer.from(Buffer.from(data, 'base64').toString('latin1'), 'base64');
  try {
    const gzipped = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
    const json = gzipped ? await gunzipAsync(bytes, { maxOutputLength: MAX_RELEASE_JSON_BYTES }) : bytes;
    return JSON.parse(json.toString('utf8'));
  } catch {
    throw new CheckFailure('error', `helm release Secret ${secret}: data.release is not a gzip-compressed Helm release record`);
  }
}

/** Follows image.tag through a values tree. */
function valueAt(tree: unknown, path: string): unknown {
  let current = tree;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
