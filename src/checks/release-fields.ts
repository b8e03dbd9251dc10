import { findReleaseUses, RELEASE_PLACEHOLDER, type ReleaseField } from '../config/release.js';
import { walkExpectations } from './http-expect.js';
import { walkOpenapiExpectations } from './openapi.js';
import type { CheckSpec } from './registry.js';

// Which expected values of which check types may hold {release} (docs/gate.md). Each type's walk
// (http-expect.ts, openapi.ts) passes those strings through `expand`: for a run that expands them
// (config/release.ts), for `run` at load time that finds them, so a field is expanded exactly
// when it counts as using {release}. Apart from the types, which import their walks from here
// would make a circle through the registry.

/** The fields of a check that use {release}, as paths inside the check. */
export function releaseFields(spec: CheckSpec): ReleaseField[] {
  return findReleaseUses((expand) => {
    switch (spec.type) {
      case 'http':
      case 'ingress':
        return walkExpectations(spec.expect, expand);
      case 'openapi':
        return walkOpenapiExpectations(spec.expect, expand);
      // The image tag `release` (k8s-rollout, oci-image) is the release as much as `{release}` is.
      case 'k8s-rollout':
        return spec.expect?.tag === undefined ? undefined : expand(spec.expect.tag === 'release' ? RELEASE_PLACEHOLDER : spec.expect.tag, ['expect', 'tag'], 'text');
      case 'oci-image':
        return expand(spec.image.replace(/:release$/, `:${RELEASE_PLACEHOLDER}`), ['image'], 'text');
      case 'helm-release':
        if (spec.expect.appVersion !== undefined) expand(spec.expect.appVersion, ['expect', 'appVersion'], 'text');
        for (const [path, value] of Object.entries(spec.expect.values ?? {})) if (typeof value === 'string') expand(value, ['expect', 'values', path], 'text');
        return undefined;
      default:
        return undefined;
    }
  });
}
