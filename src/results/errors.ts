/** Errors of on-demand runs, each with a stable code the API maps to a status. */
export class CheckNotFoundError extends Error {
  override name = 'CheckNotFoundError';
  readonly code = 'DRIFTWATCH_CHECK_NOT_FOUND';
  constructor(name: string) {
    super(`no check named "${name}"`);
  }
}

export class TargetNotAllowedError extends Error {
  override name = 'TargetNotAllowedError';
  readonly code = 'DRIFTWATCH_TARGET_NOT_ALLOWED';
}
