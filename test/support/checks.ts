import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { checkTypes, type LoadedCheck } from '../../src/checks/registry.js';
import { parseCheckFile } from '../../src/config/load.js';
import { ConfigError, type Problem } from '../../src/config/problem.js';
import { runCheck } from '../../src/runner/runner.js';
import type { Run } from '../../src/results/run.js';
import { createLogger } from '../../src/results/log.js';
import { createServices, prepareServices } from '../../src/runner/services.js';

/** Parses check-file YAML text (as if read from `file`); throws ConfigError on any problem. */
export function parseChecks(yaml: string, file = 'test.yaml'): LoadedCheck[] {
  const problems: Problem[] = [];
  const checks = parseCheckFile(file, yaml, problems, checkTypes);
  if (problems.length > 0) throw new ConfigError(problems);
  return checks;
}

/** The daemon's logger (level debug) writing its JSON lines into memory: for canary and log tests. */
export function memoryLogger(): { log: Logger; lines: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('debug', sink);
  return { log, lines: () => chunks.join('') };
}

/** Runs the first (or the named) check of the YAML once, as the daemon would. */
export async function runYaml(yaml: string, options: { name?: string; debug?: boolean; release?: string; log?: Logger } = {}): Promise<Run> {
  const checks = parseChecks(yaml);
  const check = options.name ? checks.find((c) => c.spec.name === options.name) : checks[0];
  if (!check) throw new Error(`no check ${options.name ?? ''} in YAML`);
  // As the daemon and `driftwatch run` do: load what the check needs before its timeout starts.
  const services = createServices({ release: options.release, lookupCheck: (name) => checks.find((c) => c.spec.name === name)?.spec });
  await prepareServices(services, [check.spec]);
  return runCheck(check.bound, {
    log: options.log ?? memoryLogger().log,
    services,
    debug: options.debug ?? true,
  });
}
