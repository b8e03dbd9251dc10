/**
 * The fenced blocks of a Markdown file and their readme-test markers: an HTML comment on the line
 * before the fence (docs/development.md, "The README test", says what each one means).
 */
export type Marker =
  | { kind: 'run'; exit: number }
  | { kind: 'start'; url: string }
  | { kind: 'file'; path: string }
  | { kind: 'skip'; reason: string };

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  text: string;
  /** The marker, or the text of a comment that is no valid marker (an error to report). */
  marker: Marker | { kind: 'invalid'; comment: string } | undefined;
}

const SHELLS = new Set(['sh', 'bash', 'shell', 'console']);

export function isShell(block: Block): boolean {
  return SHELLS.has(block.info);
}

export function readBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, fence = '```', info = ''] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++) body.push(lines[i] ?? '');
    const comment = /^<!-- readme-test: (.*) -->$/.exec(lines[start - 1] ?? '')?.[1];
    blocks.push({ line: start + 1, info, text: `${body.join('\n')}\n`, marker: comment === undefined ? undefined : parseMarker(comment) });
  }
  return blocks;
}

function parseMarker(comment: string): Block['marker'] {
  const run = /^run(?:, exit (\d+))?$/.exec(comment);
  if (run) return { kind: 'run', exit: Number(run[1] ?? 0) };
  const start = /^start (http:\/\/127\.0\.0\.1:\d+)$/.exec(comment);
  if (start?.[1] !== undefined) return { kind: 'start', url: start[1] };
  const file = /^file ([\w./-]+)$/.exec(comment);
  if (file?.[1] !== undefined && !file[1].startsWith('/') && !file[1].includes('..')) return { kind: 'file', path: file[1] };
  const skip = /^skip (\S.*)$/.exec(comment);
  if (skip?.[1] !== undefined) return { kind: 'skip', reason: skip[1] };
  return { kind: 'invalid', comment };
}
