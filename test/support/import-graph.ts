import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { shortestCycle, stronglyConnected } from '../../src/config/graph-cycles.js';

/**
 * The import graph of a source tree, read with the TypeScript parser (comments and strings that
 * merely look like imports are not edges). Every way one file names another counts: static and
 * type-only imports, re-exports, dynamic import(), `import('...')` in a type, and a worker entry
 * started with `new URL('./x.js', import.meta.url)`.
 */
export interface Edge {
  from: string;
  to: string;
  /** Named only in types: gone at run time, but still a dependency of the source. */
  typeOnly: boolean;
  line: number;
}

/** Every .ts file under root, as paths relative to root with `/` separators. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) found.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return found.sort();
}

/** The edges between files under root; imports of packages and of files outside root are left out. */
export function importEdges(root: string): Edge[] {
  return sourceFiles(root).flatMap((file) => edgesOf(root, file, readFileSync(join(root, file), 'utf8')));
}

export function edgesOf(root: string, file: string, text: string): Edge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean, at: ts.Node) => {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith('.')) return;
    const to = resolveSpecifier(root, file, specifier.text);
    if (to === undefined) return;
    edges.push({ from: file, to, typeOnly, line: source.getLineAndCharacterOfPosition(at.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, importIsTypeOnly(node), node);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true, node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, node);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL' && node.arguments?.[1]?.getText() === 'import.meta.url') {
      add(node.arguments[0], false, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** `import type { A }` and `import { type A, type B }` name only types. */
function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false;
  if (clause.phaseModifier === ts.SyntaxKind.TypeKeyword) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** './x.js' from file, as the .ts file it names relative to root; undefined outside root. */
function resolveSpecifier(root: string, file: string, specifier: string): string | undefined {
  const absolute = resolve(root, dirname(file), specifier);
  const candidates = [absolute.replace(/\.js$/, '.ts'), absolute, `${absolute}.ts`, join(absolute, 'index.ts')];
  const found = candidates.find((path) => path.endsWith('.ts') && existsSync(path));
  if (found === undefined) return undefined;
  const path = relative(root, found).split(sep).join('/');
  return path.startsWith('..') ? undefined : path;
}

/**
 * Import circles: the strongly connected components of more than one file (Tarjan, iterative),
 * and files that import themselves. Each component is given as a shortest cycle through it, so
 * a report reads `a.ts -> b.ts -> a.ts`.
 */
export function findCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    const list = next.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    next.set(from, list);
  }
  const cycles: string[][] = [];
  for (const component of stronglyConnected([...next.keys()].sort(), next)) {
    const [start] = [...component].sort();
    if (start === undefined) continue;
    if (component.length === 1 && !(next.get(start) ?? []).includes(start)) continue;
    cycles.push(shortestCycle(start, next, new Set(component)) ?? [start]);
  }
  return cycles;
}

/** One row of the layer table: the folders (or root files) of src it holds and what they may import. */
export interface Layer {
  name: string;
  holds: readonly string[];
  /** Layers, by name, this one may import anything from (its own files always). */
  imports: readonly string[];
  /** Layers it may import types from, and nothing else. */
  typeImports?: readonly string[];
}

/** A file's layer: by its first folder under src, or by its own name for a file at the root. */
export function layerOf(layers: readonly Layer[], file: string): Layer | undefined {
  const [top = ''] = file.split('/');
  return layers.find((layer) => layer.holds.includes(top));
}

/**
 * Every edge the table forbids, worded with both files: an arrow up (to a later row), an arrow
 * to a lower row the table does not list, a value import where only types may pass, and every
 * file the table does not place. `typeModules` are files whose exports are types written as
 * values (zod schemas): importing them counts as importing types.
 */
export function layerViolations(layers: readonly Layer[], files: readonly string[], edges: readonly Edge[], typeModules: readonly string[] = []): { upward: string[]; other: string[] } {
  const upward: string[] = [];
  const other: string[] = [];
  for (const file of files) if (layerOf(layers, file) === undefined) other.push(`${file} is in no layer of the table`);
  for (const edge of edges) {
    const from = layerOf(layers, edge.from);
    const to = layerOf(layers, edge.to);
    if (from === undefined || to === undefined || from === to || from.imports.includes(to.name)) continue;
    if ((edge.typeOnly || typeModules.includes(edge.to)) && from.typeImports?.includes(to.name)) continue;
    const what = `${edge.from}:${edge.line} (${from.name}) imports ${edge.typeOnly ? 'types of ' : ''}${edge.to} (${to.name})`;
    if (layers.indexOf(to) > layers.indexOf(from)) upward.push(what);
    else other.push(`${what}, which ${from.name} may ${from.typeImports?.includes(to.name) ? 'import only types of' : 'not import'}`);
  }
  return { upward, other };
}

/** The same graph between the top folders of the tree (a file at the root stands for itself). */
export function folderEdges(edges: readonly Edge[]): Edge[] {
  const top = (file: string) => file.split('/')[0] ?? file;
  return edges.filter((edge) => top(edge.from) !== top(edge.to)).map((edge) => ({ ...edge, from: top(edge.from), to: top(edge.to) }));
}
