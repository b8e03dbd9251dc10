/**
 * `driftwatch serve` exactly as bin/driftwatch.js runs it, compiled beside src/ by build.ts so
 * the probe scenario measures the real command in its own process (as blackbox_exporter is).
 */
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
