import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { z } from 'zod';
import { CheckFailure } from '../results/result.js';
import type { GetOptions, KubeClient } from './client.js';
import { SECRETS } from './object-ref.js';

/*
 * Helm 3's storage driver "secret" (helm.sh/helm/v3/pkg/storage/driver/secrets.go): one Secret per
 * revision, named sh.helm.release.v1.NAME.vN, type helm.sh/release.v1, labelled owner=helm,
 * name=NAME, status=..., version=N; data.release is base64(gzip(JSON of release.Release)) inside
 * the Secret's own base64.
 */

const gunzipAsync = promisify(gunzip);
/**
 * The most a release record may decompress to. A Secret holds at most 1 MiB, so Helm's gzip is
 * under 768 KiB; real records (charts with big CRDs included) decompress to a few MiB. A record
 * that grows past this is a gzip bomb or not Helm's: a 54 KB Secret held 30 MB of fields, and
 * 20 runs of it filled a check page with 472 MB. Decompression stops at the cap, so JSON.parse
 * never sees more.
 */
const MAX_RELEASE_JSON_BYTES = 8 * 1024 * 1024;
/** Characters kept of a name, version, status or date a record holds (chart names are at most 63, tags 128). */
const MAX_FIELD_CHARS = 200;
/** Characters kept of Helm's description (a failed upgrade's error) and of a string value. */
const MAX_DESCRIPTION_CHARS = 300;
const MAX_VALUE_CHARS = 500;
const GZIP_MAGIC = [0x1f, 0x8b];

/** One revision as its Secret's labels tell it (a metadata-only list: no release data sent). */
export interface HelmRevision {
  revision: number;
  status: string;
  secret: string;
}

/**
 * What the check needs of a release; the manifest, hooks, chart templates and the rest of the
 * values are dropped while parsing. Strings are cut (MAX_FIELD_CHARS, the description and values
 * longer) with a note of how much was left out, so a cut one never equals an expectation.
 */
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
    .map((item) => ({ revision: Number(item.metadata.labels.version ?? item.metadata.name.slice(prefix.length)), status: cut(item.metadata.labels.status ?? 'unknown', MAX_FIELD_CHARS), secret: item.metadata.name }))
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
    const single = shown.success && typeof shown.data === 'string' ? cut(shown.data, MAX_VALUE_CHARS) : shown.data;
    values[path] = value === undefined ? undefined : shown.success ? single : '(not a single value)';
  }
  const field = (text: string | undefined) => (text === undefined ? undefined : cut(text, MAX_FIELD_CHARS));
  return {
    revision: parsed.data.version,
    status: cut(info.status, MAX_FIELD_CHARS),
    description: info.description === undefined ? undefined : cut(info.description, MAX_DESCRIPTION_CHARS),
    chart: field(chart.metadata.name),
    chartVersion: field(chart.metadata.version),
    appVersion: field(chart.metadata.appVersion),
    firstDeployed: field(info.first_deployed),
    lastDeployed: field(info.last_deployed),
    values,
  };
}

/** Text of at most `max` characters (never ending inside a surrogate pair), saying how much was left out. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}... (${text.length - end} more characters)`;
}

/** base64 (the Secret's) -> base64 (Helm's) -> gzip -> JSON; Helm also reads records stored without gzip. */
async function decodeRelease(data: string, secret: string): Promise<unknown> {
  const bytes = Buffer.from(Buffer.from(data, 'base64').toString('latin1'), 'base64');
  const tooLarge = () =>
    new CheckFailure('error', `helm release Secret ${secret}: the release record decompresses to more than ${MAX_RELEASE_JSON_BYTES / 1024 / 1024} MiB (Helm's records are a few MiB at most: a Secret holds 1 MiB of gzip); not read`);
  const gzipped = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  let json: Buffer;
  try {
    json = gzipped ? await gunzipAsync(bytes, { maxOutputLength: MAX_RELEASE_JSON_BYTES }) : bytes;
  } catch (err) {
    if (err instanceof RangeError && 'code' in err && err.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new CheckFailure('error', `helm release Secret ${secret}: data.release is not a gzip-compressed Helm release record`);
  }
  if (json.length > MAX_RELEASE_JSON_BYTES) throw tooLarge();
  try {
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
