import { CheckFailure } from './result.js';

/**
 * `{release}` in a check's expected values stands for the release under verification
 * (`--release TAG` of run and serve), so a gate can prove that an endpoint, an image tag or a
 * Helm release carries the new release and not the old one.
 */
export const RELEASE_PLACEHOLDER = '{release}';

export function mentionsRelease(text: string): boolean {
  return text.includes(RELEASE_PLACEHOLDER);
}

/**
 * `text` with every `{release}` replaced by the release. `where` names the field for the
 * message (`expect.json.info.version`); without a release the run fails with reason config.
 */
export function expandRelease(text: string, release: string | undefined, where: string): string {
  if (!mentionsRelease(text)) return text;
  if (release === undefined) throw new CheckFailure('config', `${where} uses {release} but no release was given (driftwatch run/serve --release TAG)`);
  return text.split(RELEASE_PLACEHOLDER).join(release);
}
