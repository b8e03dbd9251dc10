import { formatPath } from './problem.js';
import { CheckFailure } from '../results/result.js';

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

/** The same in a regular expression: the release is matched literally (`1.2.3` does not match `1a2b3`). */
export function expandReleasePattern(text: string, release: string | undefined, where: string): string {
  return expandRelease(text, release === undefined ? undefined : release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), where);
}

/** Where a value stands in a check: `['expect', 'json', 'info.version']`. */
export type ReleaseField = readonly (string | number)[];

/**
 * How a check type's expectations take the release: each type writes one walk over its
 * expectations that passes every string that may hold `{release}` through `expand`. The same
 * walk expands them for a run and finds the fields that use it (`run` refuses those without
 * `--release` when it loads the checks), so the two can never disagree.
 */
export type ReleaseExpander = (text: string, where: ReleaseField, kind: 'text' | 'pattern') => string;

/** Expands for a run: throws the config CheckFailure of expandRelease when no release was given. */
export function releaseExpander(release: string | undefined): ReleaseExpander {
  return (text, where, kind) => (kind === 'pattern' ? expandReleasePattern : expandRelease)(text, release, formatPath(where));
}

/** The fields a walk passes through `expand` that mention {release}. */
export function findReleaseUses(walk: (expand: ReleaseExpander) => unknown): ReleaseField[] {
  const uses: ReleaseField[] = [];
  walk((text, where) => {
    if (mentionsRelease(text)) uses.push(where);
    return text;
  });
  return uses;
}

const usage = new WeakMap<object, boolean>();

/**
 * `expect` with {release} expanded by its type's walk. Whether an expectation mentions the
 * release is found once per loaded spec; expectations that do not are returned as they are,
 * so a check without {release} allocates nothing per run.
 */
export function expandExpectations<T extends object>(expect: T, walk: (expect: T, expand: ReleaseExpander) => T, release: string | undefined): T {
  let uses = usage.get(expect);
  if (uses === undefined) {
    uses = findReleaseUses((expand) => walk(expect, expand)).length > 0;
    usage.set(expect, uses);
  }
  return uses ? walk(expect, releaseExpander(release)) : expect;
}
