import { releaseFields } from '../checks/release-fields.js';
import type { LoadedCheck } from '../checks/registry.js';
import { createLocator } from '../config/position.js';
import { formatPath, type Problem } from '../config/problem.js';

/**
 * `run` without `--release`: every field of the checks about to run that uses {release}, as a
 * config problem at its file:line:col. A gate that cannot say which release it verifies must
 * not pass or fail on a guess; `serve` instead fails those checks with reason config.
 */
export async function findReleaseProblems(checks: readonly LoadedCheck[], release: string | undefined): Promise<Problem[]> {
  if (release !== undefined) return [];
  const locator = createLocator();
  const problems: Problem[] = [];
  for (const check of checks) {
    for (const field of releaseFields(check.spec)) {
      const path = ['checks', check.index, ...field];
      problems.push({ file: check.file, ...(await locator.at(check.file, path)), path: formatPath(path), message: 'uses {release} but no release was given (driftwatch run --release TAG)' });
    }
  }
  return problems;
}
