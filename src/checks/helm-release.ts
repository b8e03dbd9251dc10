import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { duration, formatDuration } from '../config/duration.js';
import { listHelmRevisions, readHelmRelease, type HelmRelease } from '../kube/helm-release.js';
import { kubeSourceFields, namespaceName } from '../kube/source.js';
import { expandRelease } from '../config/release.js';
import type { Failure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';

const PENDING = new Set(['pending-install', 'pending-upgrade', 'pending-rollback']);
/** Helm's own default --timeout is 5m; a pending status twice that old has lost its helm process. */
const DEFAULT_PENDING_LIMIT_MS = 10 * 60_000;
const HISTORY = 10;

const valuePath = z.string().regex(/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/, 'expected a values path like image.tag');

export const schema = z.strictObject({
  ...baseFields,
  ...kubeSourceFields,
  type: z.literal('helm-release'),
  namespace: namespaceName,
  release: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Helm release name: lower case letters, digits and dashes')
    .max(53)
    .meta({ description: 'the Helm release (helm upgrade --install NAME)' }),
  expect: z
    .strictObject({
      appVersion: z.string().min(1).optional().meta({ description: "the chart's appVersion; {release} = the release under verification" }),
      chartVersion: z.string().min(1).optional().meta({ description: 'the chart version' }),
      values: z
        .record(valuePath, z.union([z.string(), z.number(), z.boolean()]))
        .optional()
        .meta({ description: 'values path -> expected value (--set wins over the chart default), e.g. image.tag: "{release}"' }),
      pendingLimit: duration.default(DEFAULT_PENDING_LIMIT_MS).meta({ description: 'a pending-install/-upgrade/-rollback older than this is stuck (default 10m)' }),
    })
    .prefault({}),
});
export type HelmReleaseSpec = z.infer<typeof schema>;

export interface HelmReleaseObservations extends Omit<HelmRelease, 'values'> {
  namespace: string;
  release: string;
  /** The newest revision whose status is deployed (the one running while another is pending or failed). */
  deployedRevision: number | undefined;
  /** Newest first, from the release Secrets' labels. */
  history: { revision: number; status: string }[];
  /** Present when the newest revision is pending. */
  pendingSeconds?: number;
  stuck?: boolean;
  values?: HelmRelease['values'];
}

/** A Helm 3 release, read from its newest release Secret like `helm status NAME`. */
export const check: CheckType<HelmReleaseSpec, HelmReleaseObservations> = {
  async run(spec, ctx) {
    const client = await ctx.services.kube.client(spec);
    const revisions = await listHelmRevisions(client, spec.namespace, spec.release, ctx);
    const newest = revisions[0];
    if (!newest) {
      const observations: HelmReleaseObservations = emptyObservations(spec);
      return { observations, failure: { reason: 'assertion', message: `no Helm release ${spec.release} in namespace ${spec.namespace} (no Secret labelled owner=helm,name=${spec.release})` } };
    }
    const paths = Object.keys(spec.expect.values ?? {});
    const release = await readHelmRelease(client, spec.namespace, newest, paths, ctx);
    const { values, ...rest } = release;
    const observations: HelmReleaseObservations = {
      namespace: spec.namespace,
      release: spec.release,
      ...rest,
      deployedRevision: revisions.find((r) => r.status === 'deployed')?.revision,
      history: revisions.slice(0, HISTORY).map(({ revision, status }) => ({ revision, status })),
      ...(paths.length > 0 && { values }),
    };
    ctx.trace('helm release', { revision: release.revision, status: release.status, chart: release.chart, chartVersion: release.chartVersion, appVersion: release.appVersion });
    const failure = judgeStatus(spec, observations) ?? judgeExpectations(spec, release, ctx);
    return failure ? { observations, failure } : { observations, message: `revision ${release.revision} deployed (${release.chart ?? '?'}-${release.chartVersion ?? '?'}, app ${release.appVersion ?? '?'})` };
  },
};

function emptyObservations(spec: HelmReleaseSpec): HelmReleaseObservations {
  const none = { revision: 0, status: 'not found', description: undefined, chart: undefined, chartVersion: undefined, appVersion: undefined, firstDeployed: undefined, lastDeployed: undefined };
  return { namespace: spec.namespace, release: spec.release, ...none, deployedRevision: undefined, history: [] };
}

/** deployed passes on to the expectations; pending is in progress or, past the limit, stuck; the rest fail. */
function judgeStatus(spec: HelmReleaseSpec, o: HelmReleaseObservations): Failure | undefined {
  const revision = `revision ${o.revision}`;
  const running = o.deployedRevision === undefined ? 'no revision deployed' : `revision ${o.deployedRevision} deployed`;
  const said = o.description ? `: ${o.description}` : '';
  if (o.status === 'deployed') return undefined;
  if (PENDING.has(o.status)) {
    const since = o.lastDeployed === undefined ? Number.NaN : Date.parse(o.lastDeployed);
    const ageMs = Number.isFinite(since) ? Math.max(0, Date.now() - since) : Number.POSITIVE_INFINITY;
    o.pendingSeconds = Number.isFinite(ageMs) ? Math.round(ageMs / 1000) : undefined;
    o.stuck = ageMs > spec.expect.pendingLimit;
    const age = Number.isFinite(ageMs) ? formatAge(ageMs) : 'an unknown time';
    if (o.stuck) {
      return { reason: 'rollout', message: `${revision} stuck in ${o.status} for ${age} (limit ${formatDuration(spec.expect.pendingLimit)}; ${running}): the helm process that started it is gone; helm rollback ${spec.release} or upgrade again` };
    }
    return { reason: 'rollout', message: `${revision} ${o.status} for ${age} (${running})` };
  }
  if (o.status === 'failed') return { reason: 'rollout', message: `${revision} failed${said} (${running})` };
  if (o.status === 'uninstalling') return { reason: 'rollout', message: `${revision} is being uninstalled` };
  return { reason: 'assertion', message: `${revision} is ${o.status}, expected deployed${said}` };
}

function judgeExpectations(spec: HelmReleaseSpec, release: HelmRelease, ctx: RunContext): Failure | undefined {
  const problems: string[] = [];
  const { appVersion, chartVersion, values } = spec.expect;
  if (appVersion !== undefined) {
    const wanted = expandRelease(appVersion, ctx.services.release, 'expect.appVersion');
    if (release.appVersion !== wanted) problems.push(`app version ${release.appVersion ?? '(none)'}, expected ${wanted}`);
  }
  if (chartVersion !== undefined && release.chartVersion !== chartVersion) problems.push(`chart version ${release.chartVersion ?? '(none)'}, expected ${chartVersion}`);
  for (const [path, expected] of Object.entries(values ?? {})) {
    const wanted = typeof expected === 'string' ? expandRelease(expected, ctx.services.release, `expect.values.${path}`) : expected;
    const actual = release.values[path];
    if (actual === undefined) problems.push(`value ${path} is not set, expected ${JSON.stringify(wanted)}`);
    else if (actual !== wanted) problems.push(`value ${path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  }
  return problems.length > 0 ? { reason: 'assertion', message: `revision ${release.revision}: ${problems.join('; ')}` } : undefined;
}

function formatAge(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}
