import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

/**
 * Finds where a value stands in a check file, for problems found after the files were parsed
 * (a dependency graph across files, a {release} nobody gave). Each file is read and parsed at
 * most once per locator, and only when a problem needs its position: valid files cost nothing.
 */
export interface Locator {
  /** The value at path (`['checks', 3, 'dependsOn', 0]`), or its nearest existing ancestor. */
  at(file: string, path: readonly (string | number)[]): Promise<Position>;
  /** The file's data as plain values (undefined when it cannot be read). */
  data(file: string): Promise<unknown>;
}

export function createLocator(): Locator {
  const parsed = new Map<string, Promise<{ doc: Document; lines: LineCounter } | undefined>>();
  const open = (file: string) => {
    let doc = parsed.get(file);
    if (doc === undefined) {
      doc = readFile(file, 'utf8').then(
        (text) => {
          const lines = new LineCounter();
          return { doc: parseDocument(text, { lineCounter: lines }), lines };
        },
        // Gone since it was loaded: the problem still shows, at the top of the file.
        () => undefined,
      );
      parsed.set(file, doc);
    }
    return doc;
  };
  return {
    async at(file, path) {
      const found = await open(file);
      if (found === undefined) return { line: 1, col: 1 };
      for (let depth = path.length; depth >= 0; depth--) {
        const node: unknown = found.doc.getIn(path.slice(0, depth), true);
        const start = rangeStart(node);
        if (start !== undefined) return found.lines.linePos(start);
      }
      return { line: 1, col: 1 };
    },
    async data(file) {
      const found = await open(file);
      const data: unknown = found?.doc.toJS();
      return data;
    },
  };
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
    const start: unknown = node.range[0];
    return typeof start === 'number' ? start : undefined;
  }
  return undefined;
}
