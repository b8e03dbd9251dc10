import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { z } from 'zod';

/**
 * The keys every Kubernetes check has (a check file's `defaults:` block fills them in), and
 * which other checks spread to read expectations from the cluster.
 */
export const kubeSourceFields = {
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'kubeconfig file (~ expands to the home folder); default: in-cluster service account, else KUBECONFIG, else ~/.kube/config' }),
  context: z.string().min(1).optional().meta({ description: "kubeconfig context; default: the kubeconfig's current-context" }),
};

/** Kubernetes names: namespaces are DNS labels, object names DNS subdomains. */
export const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower case letters, digits and dashes')
  .max(63);
export const objectName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain: lower case letters, digits, dashes and dots')
  .max(253);

/** What a check says about where its credentials come from. */
export interface KubeSource {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Where the credentials of a source are actually read from, decided once per lookup. */
export type ResolvedSource =
  | { mode: 'in-cluster'; pathPrefix: string }
  | { mode: 'kubeconfig'; files: string[]; context: string | undefined };

/**
 * The selection order, documented in docs/kubernetes.md:
 * 1. a `kubeconfig` key: that file;
 * 2. no `context` key and KUBERNETES_SERVICE_HOST set (a pod): the service account;
 * 3. KUBECONFIG (a path list, merged like kubectl does), else ~/.kube/config.
 * A `context` key without a kubeconfig means "a context of my usual kubeconfig", never in-cluster.
 */
export function resolveSource(source: KubeSource, env: NodeJS.ProcessEnv, inClusterPathPrefix = ''): ResolvedSource {
  if (source.kubeconfig !== undefined) {
    return { mode: 'kubeconfig', files: [expandHome(source.kubeconfig)], context: source.context };
  }
  if (source.context === undefined && env.KUBERNETES_SERVICE_HOST) {
    return { mode: 'in-cluster', pathPrefix: inClusterPathPrefix };
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '');
  const files = fromEnv.length > 0 ? fromEnv : [join(homedir(), '.kube', 'config')];
  return { mode: 'kubeconfig', files, context: source.context };
}

/** Safe to show: names files and contexts, never credentials. */
export function describeSource(resolved: ResolvedSource): string {
  if (resolved.mode === 'in-cluster') return 'in-cluster service account';
  const files = resolved.files.join(delimiter);
  return resolved.context === undefined ? `kubeconfig ${files}` : `kubeconfig ${files} context ${resolved.context}`;
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}
