import { CST, Lexer } from 'yaml';

/**
 * A look at YAML text with yaml's own lexer, before its parser builds anything, for text whose
 * cost must stay bounded. The parser builds nested collections by recursion, some 15 µs and
 * 1 KB per node: 3 MB of `[` held /healthz for 5.7-8.4 s at 1.7 GB, and recursion near the
 * stack's end can abort the whole process (V8 "RegExpCompiler Allocation failed") where a
 * RangeError would have been caught. The lexer is linear and stopped at the first token over a
 * bound: 3 MB of `[` cost some 10 ms here.
 *
 * The depth found is an upper bound, never less than the parser's: block collections by the
 * columns their lines and indicators start at, twice (a block sequence may stand in the column
 * of its mapping key); flow collections from the lexer's own `[ { ] }` tokens (it knows quoting
 * as the parser does), each with the indicators (`:` `?` `-`) of its current entry, since
 * `[a: b: c]` nests a mapping per `:` (an error, but the parser builds it all the same).
 */

export interface YamlBounds {
  /** Nesting depth at most (the bound described above). */
  depth: number;
  /** Lexer tokens at most: a key with its value is some 8 of them. */
  tokens: number;
}

export interface YamlExcess {
  what: 'depth' | 'tokens' | 'control';
  line: number;
  col: number;
}

/** C0 controls YAML does not allow (tab, LF and CR aside): also the lexer's own marker characters. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const MARKERS = new Set<string | null>(['doc-mode', 'scalar', 'flow-error-end']);

/** Where the text first goes past a bound, or undefined when it stays within them. */
export function exceedsBounds(text: string, bounds: YamlBounds): YamlExcess | undefined {
  const control = CONTROL.exec(text);
  if (control) return { what: 'control', ...positionOf(text, control.index) };
  // Columns of the open block nodes; per open flow collection, the indicators of its current
  // entry. Either closer closes the innermost collection and flow-error-end all of them, as the
  // lexer and the parser have it.
  const block: number[] = [];
  const flow: number[] = [];
  let line = 1;
  let col = 0;
  let tokens = 0;
  let lineStart = true;
  let afterMarker = false;
  let inBlockScalar = false;
  for (const token of new Lexer().lex(text)) {
    if (++tokens > bounds.tokens) return { what: 'tokens', line, col: col + 1 };
    const type = CST.tokenType(token);
    if (MARKERS.has(type)) {
      if (type === 'flow-error-end') flow.length = 0;
      afterMarker = type === 'scalar';
      continue;
    }
    // The token after a scalar marker is the scalar's text, whatever it looks like ("---", ","):
    // a plain scalar starts a node, a block scalar's content (which may start at column 0) is a
    // leaf that closes nothing.
    const kind = afterMarker ? (inBlockScalar ? 'content' : 'scalar') : type;
    afterMarker = false;
    if (kind === 'content') {
      inBlockScalar = false;
    } else if (kind === 'newline' || kind === 'space' || kind === 'comment') {
      // Neither opens nor closes anything.
    } else if (kind === 'comma') {
      if (flow.length > 0) flow[flow.length - 1] = 0;
    } else if (kind === 'doc-start' || kind === 'doc-end') {
      block.length = 0;
      flow.length = 0;
    } else if (kind === 'flow-seq-end' || kind === 'flow-map-end') {
      flow.pop();
    } else {
      if (flow.length === 0) startsAt(block, col, lineStart);
      else if (kind === 'map-value-ind' || kind === 'explicit-key-ind' || kind === 'seq-item-ind') flow[flow.length - 1] = (flow.at(-1) ?? 0) + 1;
      if (kind === 'flow-seq-start' || kind === 'flow-map-start') flow.push(0);
      if (kind === 'block-scalar-header') inBlockScalar = true;
      lineStart = false;
      const nested = 2 * block.length + flow.reduce((sum, entry) => sum + 2 + entry, 0);
      if (nested > bounds.depth) return { what: 'depth', line, col: col + 1 };
    }
    const newline = token.lastIndexOf('\n');
    if (newline === -1) {
      col += token.length;
    } else {
      for (const char of token) if (char === '\n') line++;
      col = token.length - newline - 1;
      // A token that ends its line (a newline, a block scalar's content) leaves the next at a line's start.
      lineStart = col === 0;
    }
  }
  return undefined;
}

/**
 * A block node starting at `col`: the first on its line closes the nodes at deeper columns (a
 * dedent); each one at a deeper column than the innermost open one may nest in it.
 */
function startsAt(block: number[], col: number, lineStart: boolean): void {
  if (lineStart) while ((block.at(-1) ?? -1) > col) block.pop();
  if ((block.at(-1) ?? -1) < col) block.push(col);
}

function positionOf(text: string, index: number): { line: number; col: number } {
  const before = text.slice(0, index);
  return { line: before.split('\n').length, col: index - before.lastIndexOf('\n') };
}
