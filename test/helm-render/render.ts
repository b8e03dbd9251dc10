import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * Renders charts/driftwatch with main.go beside this file (Go's text/template + sprig, Helm's
 * engine rules): the chart tests execute the real templates, not a re-implementation of them.
 * Needs Debian's golang-go, golang-github-masterminds-sprig-dev and golang-k8s-sigs-yaml-dev
 * (scripts/test-deps.sh); the build runs in GOPATH mode from /usr/share/gocode, without network.
 */

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('.', import.meta.url));
export const CHART = fileURLToPath(new URL('../../charts/driftwatch', import.meta.url));
// A stable cache folder: the first build compiles sprig (~15 s), later ones take about a second.
const GO_CACHE = join(tmpdir(), 'driftwatch-helm-render-gocache');

/** A rendered Kubernetes object, as far as the tests read it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  objects: KubeObject[];
  /** Raw output per template file (driftwatch/templates/x.yaml), NOTES.txt included. */
  templates: Record<string, string>;
  find(kind: string, namespace?: string): KubeObject[];
}

export interface Renderer {
  /** Renders with values.yaml plus these values files and value objects (later ones win). */
  render(options: { release?: string; namespace?: string; valuesFiles?: string[]; values?: object[] }): Promise<Rendered>;
  close(): Promise<void>;
}

export async function buildRenderer(): Promise<Renderer> {
  const dir = await mkdtemp(join(tmpdir(), 'driftwatch-helm-render-'));
  const binary = join(dir, 'helm-render');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: GO_CACHE, GOFLAGS: '' };
  try {
    // At the lowest CPU priority: test files running beside this one keep their timing.
    await run('nice', ['-n', '19', 'go', 'build', '-o', binary, '.'], { cwd: SOURCE, env, timeout: 120_000 });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot build test/helm-render (run scripts/test-deps.sh for golang-go and the Go libraries): ${String(err)}`);
  }
  let count = 0;
  return {
    async render({ release = 'driftwatch', namespace = 'driftwatch', valuesFiles = [], values = [] }) {
      const args = ['-chart', CHART, '-name', release, '-namespace', namespace];
      for (const file of valuesFiles) args.push('-f', file);
      for (const object of values) {
        // JSON is YAML: the values objects go in as extra -f files, like --set-file would.
        const file = join(dir, `values-${++count}.json`);
        await writeFile(file, JSON.stringify(object));
        args.push('-f', file);
      }
      try {
        const { stdout } = await run(binary, args, { maxBuffer: 64 * 1024 * 1024 });
        return parseOutput(stdout);
      } catch (err) {
        const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr).trim() : '';
        throw new Error(`helm-render failed: ${stderr || String(err)}`);
      }
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

function parseOutput(stdout: string): Rendered {
  const parsed: unknown = JSON.parse(stdout);
  const templates = isRecord(parsed) && isRecord(parsed.templates) ? parsed.templates : {};
  const texts: Record<string, string> = {};
  const objects: KubeObject[] = [];
  for (const [source, text] of Object.entries(templates).sort(([a], [b]) => a.localeCompare(b))) {
    if (typeof text !== 'string') continue;
    texts[source] = text;
    if (!source.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) continue;
      objects.push(kubeObject(object, source));
    }
  }
  return { objects, templates: texts, find: (kind, namespace) => objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)) };
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
