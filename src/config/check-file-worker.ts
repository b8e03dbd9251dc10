/**
 * Worker thread entry: validates one check file's text and posts the plain-data result back
 * (see check-file-thread.ts). Never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { validateCheckFile } from './check-file.js';

const { file, text } = z.object({ file: z.string(), text: z.string() }).parse(workerData);
// As JSON text: copying one string and JSON.parse on the main thread block it about half as long
// as a structured clone of 10,000 objects. Lossless for checks that passed: their schemas take
// only JSON values (zod refuses NaN and Infinity, the only others YAML gives).
parentPort?.postMessage(JSON.stringify(validateCheckFile(file, text)));
