import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { validateCheckFile, validatedFileSchema, type ValidatedFile } from './check-file.js';
import type { CheckTypes } from './check-types.js';

const ENTRY = new URL('./check-file-worker.js', import.meta.url);
/**
 * Run from the TypeScript sources (vitest, tsx) there is no .js to start, and Node 20 does not
 * hand tsx's loader to a worker: validate on this thread then. dist/ and the image always use
 * the worker (test/large-check-file.test.ts runs the compiled CLI).
 */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/**
 * validateCheckFile on a worker thread, for large files: parsing a 10,000-check file takes
 * seconds of CPU, which on the daemon's thread would leave /healthz and /metrics unanswered for
 * as long. What comes back is plain data (problems, names, checks as written); the specs, with
 * their Secret instances, are built on this thread. The thread imports the check types from
 * `types.module`, since a schema cannot be sent to it.
 */
export async function validateInWorker(file: string, text: string, types: Pick<CheckTypes, 'schema' | 'names' | 'module'>): Promise<ValidatedFile> {
  if (FROM_SOURCES) return validateCheckFile(file, text, types);
  const worker = new Worker(ENTRY, { workerData: { file, text, types: types.module } });
  try {
    const message = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => {
        reject(new Error(`the validation thread exited (code ${code})`));
      });
    });
    const parts = z.array(z.string()).min(1).safeParse(message);
    if (!parts.success) throw new Error('the validation thread sent no result');
    const [head = '', ...slices] = parts.data;
    const { problems, names } = validatedFileSchema.omit({ checks: true }).parse(JSON.parse(head));
    const checks: ValidatedFile['checks'] = [];
    for (const slice of slices) {
      // One part at a time, the event loop free between them: 10,000 checks at once held it ~100 ms.
      await yieldToEventLoop();
      checks.push(...validatedFileSchema.shape.checks.parse(JSON.parse(slice)));
    }
    return { problems, names, checks };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { problems: [{ file, line: 1, col: 1, path: '', message: `could not be validated: ${reason}` }], names: [], checks: [] };
  } finally {
    await worker.terminate();
  }
}
