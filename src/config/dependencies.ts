import type { BaseSpec } from './base.js';
import type { CheckReference, LoadedCheck } from './check-types.js';
import { createLocator } from './position.js';
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

/** Tarjan's strongly connected components, iteratively: a chain of 10,000 checks must not overflow the stack. */
function stronglyConnected(nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
  };
  for (const root of nodes) {
    if (index.has(root)) continue;
    visit(root);
    const work = [{ node: root, next: 0 }];
    for (let frame = work.at(-1); frame !== undefined; frame = work.at(-1)) {
      const to = (edges.get(frame.node) ?? [])[frame.next];
      if (to !== undefined) {
        frame.next += 1;
        if (!index.has(to)) {
          visit(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack.delete(member);
        component.push(member);
        if (member === frame.node) break;
      }
      components.push(component);
    }
  }
  return components;
}

/** The shortest path start -> ... -> start inside one component (breadth first). */
function shortestCycle(start: string, edges: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    const node = queue[at] ?? start;
    for (const to of edges.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let step: string | undefined = node; step !== undefined && step !== start; step = cameFrom.get(step)) path.splice(1, 0, step);
        return [...path, start];
      }
      if (cameFrom.has(to)) continue;
      cameFrom.set(to, node);
      queue.push(to);
    }
  }
  return undefined;
}
