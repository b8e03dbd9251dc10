import { createRequire } from 'node:module';
import { createOffThread } from '../text/off-thread.js';

/** Matches RE2 patterns against long text (a large response body) on a worker thread: see text/off-thread.ts. */

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS } = require(workerData.re2js);
const cache = new Map();
parentPort.on('message', ({ id, input }) => {
  try {
    const output = input.sources.map((source) => {
      let re = cache.get(source);
      if (re === undefined) {
        if (cache.size > 1000) cache.clear();
        re = RE2JS.compile(source);
        cache.set(source, re);
      }
      return re.matcher(input.text).find();
    });
    parentPort.postMessage({ id, output });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

let thread: ReturnType<typeof createOffThread> | undefined;

/** For each pattern, whether it matches anywhere in the text; rejects with the signal's reason when it aborts first. */
export async function matchOffThread(sources: readonly string[], text: string, signal: AbortSignal): Promise<boolean[]> {
  thread ??= createOffThread('pattern matching', SOURCE, { workerData: { re2js: createRequire(import.meta.url).resolve('re2js') } });
  const output = await thread.run({ sources, text }, signal);
  return Array.isArray(output) ? output.map((hit) => hit === true) : [];
}
