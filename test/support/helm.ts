import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { helmBinary, type HelmVersion } from './tools.js';

/**
 * The real helm (test/support/tools.ts) on charts/driftwatch: `helm template`, `helm lint`, and
 * Helm 4's client-only dry-run install (the only way to read NOTES.txt without a cluster). helm
 * gets its own config, cache and data folders and a kubeconfig that does not exist: nothing it
 * does reaches a cluster or the user's helm setup.
 */

export const CHART = fileURLToPath(new URL('../../charts/driftwatch', import.meta.url));

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A rendered Kubernetes object, as far as the tests read it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  objects: KubeObject[];
  /** Source template of each object, in order (driftwatch/templates/x.yaml). */
  sources: string[];
  find(kind: string, namespace?: string): KubeObject[];
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  /** Value objects, written as -f files after valuesFiles (later ones win, as in Helm). */
  values?: object[];
  /** Further helm arguments, e.g. ['--set-string', 'release=6455902']. */
  args?: string[];
}

export interface Helm {
  readonly version: HelmVersion;
  run(args: string[]): Promise<HelmResult>;
  /** The argument list of `helm template`/`install` for these options (value objects written to files). */
  valueArgs(options: RenderOptions): Promise<string[]>;
  render(options?: RenderOptions): Promise<Rendered>;
  close(): Promise<void>;
}

export async function startHelm(version: HelmVersion): Promise<Helm> {
  const binary = helmBinary(version);
  const dir = await mkdtemp(join(tmpdir(), `driftwatch-helm-${version}-`));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    HELM_CONFIG_HOME: join(dir, 'config'),
    HELM_CACHE_HOME: join(dir, 'cache'),
    HELM_DATA_HOME: join(dir, 'data'),
    KUBECONFIG: join(dir, 'no-kubeconfig'),
  };
  let count = 0;
  const run = (args: string[]): Promise<HelmResult> =>
    new Promise((resolve) => {
      execFile(binary, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  const valueArgs = async ({ valuesFiles = [], values = [], args = [] }: RenderOptions): Promise<string[]> => {
    const out: string[] = [];
    for (const file of valuesFiles) out.push('-f', file);
    for (const object of values) {
      // JSON is YAML: value objects go in as further values files.
      const file = join(dir, `values-${++count}.json`);
      await writeFile(file, JSON.stringify(object));
      out.push('-f', file);
    }
    return [...out, ...args];
  };
  return {
    version,
    run,
    valueArgs,
    async render(options = {}) {
      const { release = 'driftwatch', namespace = 'driftwatch' } = options;
      const result = await run(['template', release, CHART, '--namespace', namespace, ...(await valueArgs(options))]);
      if (result.code !== 0) throw new Error(`helm ${version} template failed: ${result.stderr.trim()}`);
      return parseManifest(result.stdout);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** helm's manifest stream: YAML documents, each after a `# Source: chart/templates/x.yaml` line. */
export function parseManifest(stdout: string): Rendered {
  const objects: KubeObject[] = [];
  const sources: string[] = [];
  for (const part of stdout.split(/^---\s*$/m)) {
    const source = /^# Source: (\S+)$/m.exec(part)?.[1] ?? '';
    for (const doc of parseAllDocuments(part)) {
      if (doc.errors.length > 0) throw new Error(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) continue;
      objects.push(kubeObject(object, source));
      sources.push(source);
    }
  }
  return { objects, sources, find: (kind, namespace) => objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)) };
}

function kubeObject(value: unknown, source: string): KubeObject {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isRecord(value.metadata) || typeof value.metadata.name !== 'string') {
    throw new Error(`${source}: a document without apiVersion, kind and metadata.name`);
  }
  return value as KubeObject;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
