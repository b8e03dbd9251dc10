import type { BaseSpec } from './base.js';
import type { CheckReference, LoadedCheck } from './check-types.js';
import { createLocator } from './position.js';
import { shortestCycle, stronglyConnected } from './graph-cycles.js';
import { formatPath, type Problem } from './problem.js';

const NONE: readonly string[] = Object.freeze([]);

/**
 * The checks a spec depends on: its `dependsOn`, and the checks it reads a value from (a
 * k8s-rollout's `expect.digestFrom` oci-image check), so `run` orders them first and a failing
 * registry check blocks the rollout check instead of failing it a second time.
 */
export function dependenciesOf(spec: BaseSpec, references: readonly CheckReference[]): readonly string[] {
  const explicit = spec.dependsOn ?? NONE;
  return references.length === 0 ? explicit : [...new Set([...explicit, ...references.map((r) => r.name)])];
}

/** A problem with one `dependsOn` entry, before its position in the file is looked up. */
interface Finding {
  check: LoadedCheck;
  /** Index of the entry in the check's dependsOn list. */
  entry: number;
  message: string;
  /** For unknown names: the name, so a check that exists but is itself invalid is not called unknown. */
  unknown?: string;
}

/**
 * Problems of the dependency graph across all loaded files: unknown names, a check depending
 * on itself, a name listed twice, and cycles (each named in full, once per cycle, at the entry
 * of its first check in file order). `files` are every check file read, so that a dependency on
 * a check which exists but failed validation is not reported as unknown (its own problem is).
 * Positions are looked up only for the entries that have a problem.
 */
export async function findDependencyProblems(checks: readonly LoadedCheck[], files: readonly string[]): Promise<Problem[]> {
  const findings = inspectDependencies(checks);
  if (findings.length === 0) return [];
  const locator = createLocator();
  let written: Set<string> | undefined;
  const problems: Problem[] = [];
  for (const finding of findings) {
    if (finding.unknown !== undefined) {
      written ??= await namesWritten(files, (file) => locator.data(file));
      if (written.has(finding.unknown)) continue;
    }
    const { check, entry } = finding;
    const path = ['checks', check.index, 'dependsOn', entry];
    problems.push({ file: check.file, ...(await locator.at(check.file, path)), path: formatPath(path), message: finding.message });
  }
  return problems;
}

/** The graph's problems, in file order; positions come later. */
export function inspectDependencies(checks: readonly LoadedCheck[]): Finding[] {
  if (!checks.some((check) => check.dependencies.length > 0)) return [];
  const byName = new Map(checks.map((check) => [check.spec.name, check]));
  const findings: Finding[] = [];
  const edges = new Map<string, string[]>();
  for (const check of checks) {
    const { name, dependsOn = [] } = check.spec;
    const targets: string[] = [];
    dependsOn.forEach((dependency, entry) => {
      if (dependency === name) findings.push({ check, entry, message: 'a check cannot depend on itself' });
      else if (dependsOn.indexOf(dependency) < entry) findings.push({ check, entry, message: `"${dependency}" is listed twice` });
      else if (!byName.has(dependency)) findings.push({ check, entry, unknown: dependency, message: `unknown check "${dependency}" (no check of that name in the loaded files)` });
      else targets.push(dependency);
    });
    // A check it reads from (expect.digestFrom) is an edge too: a cycle through one would block both forever.
    for (const implied of check.dependencies) if (!dependsOn.includes(implied) && byName.has(implied)) targets.push(implied);
    edges.set(name, targets);
  }
  const order = new Map(checks.map((check, i) => [check.spec.name, i]));
  for (const component of stronglyConnected([...byName.keys()], edges)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const [start] = component.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const cycle = start === undefined ? undefined : shortestCycle(start, edges, members);
    if (cycle === undefined) continue;
    // Placed at the first dependsOn entry of the cycle (an edge from expect.digestFrom has none).
    const at = cycle.findIndex((from, i) => (byName.get(from)?.spec.dependsOn ?? []).includes(cycle[i + 1] ?? ''));
    const check = byName.get(cycle[at] ?? '');
    if (check === undefined) continue;
    const entry = check.spec.dependsOn?.indexOf(cycle[at + 1] ?? '') ?? 0;
    findings.push({ check, entry, message: `dependency cycle: ${cycle.join(' -> ')} (remove one of these dependsOn entries)` });
  }
  return findings.sort((a, b) => (order.get(a.check.spec.name) ?? 0) - (order.get(b.check.spec.name) ?? 0) || a.entry - b.entry);
}

/** Every check name written in the files, valid or not. */
async function namesWritten(files: readonly string[], read: (file: string) => Promise<unknown>): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of files) {
    const data = await read(file);
    const list = data !== null && typeof data === 'object' && 'checks' in data ? data.checks : undefined;
    if (!Array.isArray(list)) continue;
    const items: unknown[] = list;
    for (const item of items) {
      if (item !== null && typeof item === 'object' && 'name' in item && typeof item.name === 'string') names.add(item.name);
    }
  }
  return names;
}
