import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The pinned helm and kubectl binaries scripts/test-tools.sh (run by scripts/test-deps.sh)
 * installs into .tools/, checked by checksum there. Tests only find them: nothing downloads at
 * test time, and a missing binary is a clear error naming the script, not a skipped test.
 */

const TOOLS = fileURLToPath(new URL('../../.tools/', import.meta.url));

/** Helm 4 (current) and Helm 3.17 (the version still in wide use): chart tests run both. */
export const HELM_VERSIONS = ['4.1.4', '3.17.2'] as const;
export type HelmVersion = (typeof HELM_VERSIONS)[number];
export const KUBECTL_VERSION = '1.35.2';

function tool(relative: string): string {
  const path = `${TOOLS}${relative}`;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: run scripts/test-deps.sh (it installs the pinned helm and kubectl into .tools/)`);
  }
  return path;
}

export function helmBinary(version: HelmVersion): string {
  return tool(`helm-${version}/helm`);
}

export function kubectlBinary(): string {
  return tool(`kubectl-${KUBECTL_VERSION}/kubectl`);
}
