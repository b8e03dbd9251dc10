/**
 * Helm 3 release Secrets as `helm upgrade --install` leaves them (helm.sh/helm/v3
 * pkg/storage/driver/secrets.go and util.go): sh.helm.release.v1.NAME.vN, type
 * helm.sh/release.v1, labels name/owner/status/version/modifiedAt, and data.release holding
 * base64(gzip(JSON of release.Release)), which the API server serves base64-encoded once more.
 * The release JSON has the real shape (pkg/release: info, chart with metadata, templates, values
 * and files, config, manifest, hooks, version, namespace), with whatever the test puts in the
 * user-supplied values and the manifest: canaries, for the tests that prove none of it leaks.
 */
import { gzipSync } from 'node:zlib';
import type { Secret } from './kube-objects.js';

export interface ReleaseOptions {
  status: 'deployed' | 'failed' | 'pending-install' | 'pending-upgrade' | 'pending-rollback' | 'superseded' | 'uninstalling' | 'uninstalled';
  chart?: string;
  chartVersion?: string;
  appVersion?: string;
  /** User-supplied values (-f, --set). */
  config?: Record<string, unknown>;
  /** The chart's values.yaml. */
  chartValues?: Record<string, unknown>;
  /** The rendered manifest (may hold Secrets: the chart's templates render them). */
  manifest?: string;
  /** info.last_deployed: when this revision's operation started. */
  lastDeployed?: Date;
  description?: string;
  /** The record's bytes as stored before gzip, instead of the JSON built from the options (a gzip bomb, a record that is not JSON). */
  record?: Buffer;
}

const FIRST_DEPLOYED = '2026-06-14T09:12:44.301927113+02:00';

/** Go's time.Time JSON with nanoseconds, as Helm writes it. */
function goTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1482917Z');
}

export function helmReleaseSecret(namespace: string, name: string, revision: number, options: ReleaseOptions): Secret {
  const lastDeployed = options.lastDeployed ?? new Date(Date.now() - 3_600_000);
  const chartName = options.chart ?? name;
  const release = {
    name,
    info: {
      first_deployed: FIRST_DEPLOYED,
      last_deployed: goTime(lastDeployed),
      deleted: '',
      description: options.description ?? (options.status === 'deployed' ? (revision === 1 ? 'Install complete' : 'Upgrade complete') : `Preparing ${options.status}`),
      status: options.status,
      notes: `1. Get the application URL by running these commands:\n  export POD_NAME=$(kubectl get pods --namespace ${namespace} -l "app.kubernetes.io/name=${chartName}" -o jsonpath="{.items[0].metadata.name}")`,
    },
    chart: {
      metadata: { name: chartName, version: options.chartVersion ?? '0.1.0', description: 'A Helm chart for Kubernetes', apiVersion: 'v2', appVersion: options.appVersion ?? '1.16.0', type: 'application' },
      lock: null,
      templates: [
        { name: 'templates/deployment.yaml', data: Buffer.from(`apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include "${chartName}.fullname" . }}\n`).toString('base64') },
        { name: 'templates/secret.yaml', data: Buffer.from('apiVersion: v1\nkind: Secret\nstringData:\n  SESSION_SECRET: {{ .Values.sessionSecret }}\n').toString('base64') },
      ],
      values: options.chartValues ?? { replicaCount: 1, image: { repository: 'nginx', pullPolicy: 'IfNotPresent', tag: '' }, service: { type: 'ClusterIP', port: 8000 } },
      schema: null,
      files: [{ name: '.helmignore', data: Buffer.from('.DS_Store\n.git/\n').toString('base64') }],
    },
    config: options.config ?? {},
    manifest: options.manifest ?? `---\n# Source: ${chartName}/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n`,
    hooks: [{ name: `${name}-test-connection`, kind: 'Pod', path: `${chartName}/templates/tests/test-connection.yaml`, manifest: 'apiVersion: v1\nkind: Pod\n', events: ['test'], last_run: { started_at: '', completed_at: '', phase: '' } }],
    version: revision,
    namespace,
  };
  // Helm: base64.StdEncoding(gzip(json)); the Secret's data then base64-encodes that text again.
  const encoded = gzipSync(options.record ?? Buffer.from(JSON.stringify(release))).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `sh.helm.release.v1.${name}.v${revision}`,
      namespace,
      uid: `9e2b7c4a-1f3d-4c5e-8a6b-${String(revision).padStart(12, '0')}`,
      resourceVersion: String(71_000 + revision),
      creationTimestamp: lastDeployed.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: { name, owner: 'helm', status: options.status, version: String(revision), modifiedAt: String(Math.floor(lastDeployed.getTime() / 1000)) },
    },
    type: 'helm.sh/release.v1',
    data: { release: Buffer.from(encoded).toString('base64') },
  };
}
