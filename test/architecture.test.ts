import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { findCycles, folderEdges, importEdges, layerViolations, sourceFiles, type Layer } from './support/import-graph.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * The layers of src/ as DESIGN section 1 writes them, lowest first; a row imports only
 * the rows it lists (each before it) and its own files. Two folders the design's table does not
 * name stand where their imports put them: text/ (bounded work on untrusted text: YAML bounds
 * before parsing, parsing and matching on a worker thread; it imports nothing of src) beside
 * results at the bottom, and import/ (blackbox.yml translation, which only a command uses)
 * beside commands at the top.
 */
const EVERYTHING_BELOW = ['results', 'text', 'config', 'net, kube', 'checks', 'runner, scheduler', 'metrics, state', 'gate', 'api', 'daemon'];
const LAYERS: Layer[] = [
  { name: 'results', holds: ['results'], imports: [] },
  { name: 'text', holds: ['text'], imports: [] },
  { name: 'config', holds: ['config'], imports: ['results', 'text'] },
  { name: 'net, kube', holds: ['net', 'kube'], imports: ['results', 'text'] },
  { name: 'checks', holds: ['checks'], imports: ['results', 'text', 'net, kube'], typeImports: ['config'] },
  { name: 'runner, scheduler', holds: ['runner', 'scheduler'], imports: EVERYTHING_BELOW.slice(0, 5) },
  { name: 'metrics, state', holds: ['metrics', 'state'], imports: ['results'], typeImports: ['config'] },
  { name: 'gate', holds: ['gate'], imports: EVERYTHING_BELOW.slice(0, 7) },
  { name: 'api', holds: ['api'], imports: EVERYTHING_BELOW.slice(0, 8) },
  { name: 'daemon', holds: ['daemon'], imports: EVERYTHING_BELOW.slice(0, 9) },
  { name: 'commands', holds: ['commands', 'import', 'cli.ts'], imports: EVERYTHING_BELOW },
];

/**
 * "config types" (the design's words for what checks, metrics and state take of config): any
 * type-only import of config, and these modules, whose exports are the types of check-file values
 * written as zod schemas (STYLE.md 3: types come from the schema): the fields every check has,
 * durations, secret references and the {release} placeholder. A check type's schema is built
 * from them; the loader (reading files, positions, problems, the graph) stays out of reach.
 */
const CONFIG_TYPES = ['config/base.ts', 'config/duration.ts', 'config/secret.ts', 'config/release.ts'];

/** What a source file may grow to (STYLE.md: past 300 lines, split by concept). */
const MAX_FILE_LINES = 300;
/** What a function of the daemon's wiring may grow to, nested functions included. */
const MAX_DAEMON_FUNCTION_LINES = 60;

describe('the layers of src/', () => {
  const files = sourceFiles(SRC);
  const edges = importEdges(SRC);

  it('writes each row to import only rows before it', () => {
    LAYERS.forEach((layer, at) => {
      const before = LAYERS.slice(0, at).map((l) => l.name);
      for (const name of [...layer.imports, ...(layer.typeImports ?? [])]) expect(before, `${layer.name} lists ${name}`).toContain(name);
    });
  });

  it('has no import circle (type-only imports count)', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(findCycles(edges).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('has no circle between folders either', () => {
    expect(findCycles(folderEdges(edges)).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('has no import the table forbids, and places every file', () => {
    const { upward, other } = layerViolations(LAYERS, files, edges, CONFIG_TYPES);
    expect(upward).toEqual([]);
    expect(other).toEqual([]);
  });

  it("keeps only entry points at src/'s root", () => {
    expect(files.filter((file) => !file.includes('/'))).toEqual(['cli.ts']);
  });

  it(`has no source file over ${MAX_FILE_LINES} lines`, () => {
    const long = files.map((file) => ({ file, lines: readFileSync(join(SRC, file), 'utf8').split('\n').length - 1 })).filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`has no function in src/daemon over ${MAX_DAEMON_FUNCTION_LINES} lines`, () => {
    const long = files.filter((file) => file.startsWith('daemon/')).flatMap((file) => functionSpans(file, readFileSync(join(SRC, file), 'utf8')).filter((f) => f.lines > MAX_DAEMON_FUNCTION_LINES));
    expect(files.filter((file) => file.startsWith('daemon/')).length).toBeGreaterThan(1);
    expect(long).toEqual([]);
  });
});

describe('the import checker', () => {
  /** A throwaway tree with one circle through a type-only import and a dynamic import, and an arrow up. */
  function sampleTree(): string {
    const root = mkdtempSync(join(tmpdir(), 'driftwatch-arch-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('results/result.ts', "import type { Run } from '../runner/run.js';\nexport interface Result { run?: Run }\n");
    write('runner/run.ts', "// import { nothing } from '../api/x.js';\nexport async function start() { return import('../results/result.js'); }\nexport interface Run { ok: boolean }\n");
    write('checks/tcp.ts', "export const worker = new URL('../config/worker.js', import.meta.url);\n");
    write('config/worker.ts', "import type { Result } from '../results/result.js';\nexport type { Result };\n");
    return root;
  }
  const layers: Layer[] = [
    { name: 'results', holds: ['results'], imports: [] },
    { name: 'config', holds: ['config'], imports: ['results'] },
    { name: 'checks', holds: ['checks'], imports: ['results'], typeImports: ['config'] },
    { name: 'runner', holds: ['runner'], imports: ['results', 'config', 'checks'] },
  ];

  it('names every circle, every arrow up and every value import where only types may pass, and skips comments', () => {
    const root = sampleTree();
    try {
      const edges = importEdges(root);
      expect(findCycles(edges)).toEqual([['results/result.ts', 'runner/run.ts', 'results/result.ts']]);
      expect(layerViolations(layers, sourceFiles(root), edges)).toEqual({
        upward: ['results/result.ts:1 (results) imports types of runner/run.ts (runner)'],
        other: ['checks/tcp.ts:1 (checks) imports config/worker.ts (config), which checks may import only types of'],
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** Every function-like node of a file with the lines it spans, nested functions inside it included. */
function functionSpans(file: string, text: string): { name: string; lines: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: { name: string; lines: number }[] = [];
  const line = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const name = node.name !== undefined && ts.isIdentifier(node.name) ? node.name.text : ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : `(function at ${line(node.getStart()) + 1})`;
      spans.push({ name: `${file}: ${name}`, lines: line(node.getEnd()) - line(node.getStart()) + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}
