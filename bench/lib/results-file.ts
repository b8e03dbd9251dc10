import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/**
 * bench/results.json holds the latest result of each scenario; a run of one scenario
 * (--only probe) replaces that section and keeps the others.
 */
export async function mergeResults(file: string, sections: Record<string, unknown>): Promise<void> {
  let previous: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) previous = parsed as Record<string, unknown>;
    } catch {
      // an unreadable old file is replaced
    }
  }
  await writeFile(file, `${JSON.stringify({ ...previous, ...sections }, null, 2)}\n`);
}
