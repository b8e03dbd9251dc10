import type { z } from 'zod';
import { findReleaseUses, RELEASE_PLACEHOLDER, type ReleaseExpander, type ReleaseField } from '../config/release.js';
import type { HttpSpec } from './http.js';
import type { OpenapiSpec } from './openapi.js';
import type { CheckSpec } from './registry.js';

// Which expected values of which check types may hold {release} (docs/gate.md). Each walk passes
// those strings through `expand`: for a run that expands them (src/release.ts), for `run` at
// load time that finds them, so a field is expanded exactly when it counts as using {release}.

/**
 * The response expectations of http and ingress: body texts, the body patterns (both ways), json
 * values at any depth, header values and patterns. Keys (json paths, header names) are never expanded.
 */
export function walkExpectations(expect: HttpSpec['expect'], expand: ReleaseExpander): HttpSpec['expect'] {
  const at = ['expect'];
  const patterns = (list: readonly string[], key: string) => list.map((text, i) => expand(text, [...at, key, i], 'pattern'));
  return {
    ...expect,
    ...(expect.bodyContains && { bodyContains: expect.bodyContains.map((text, i) => expand(text, [...at, 'bodyContains', i], 'text')) }),
    ...(expect.bodyMatches && { bodyMatches: patterns(expect.bodyMatches, 'bodyMatches') }),
    ...(expect.bodyNotMatches && { bodyNotMatches: patterns(expect.bodyNotMatches, 'bodyNotMatches') }),
    ...(expect.json && { json: Object.fromEntries(Object.entries(expect.json).map(([path, value]) => [path, walkJson(value, [...at, 'json', path], expand)])) }),
    ...(expect.headers && {
      headers: Object.fromEntries(
        Object.entries(expect.headers).map(([name, wanted]): [string, HeaderExpectation] => {
          const where = [...at, 'headers', name];
          if (typeof wanted === 'string') return [name, expand(wanted, where, 'text')];
          return [
            name,
            {
              ...wanted,
              ...(wanted.matches !== undefined && { matches: expand(wanted.matches, [...where, 'matches'], 'pattern') }),
              ...(wanted.notMatches !== undefined && { notMatches: expand(wanted.notMatches, [...where, 'notMatches'], 'pattern') }),
            },
          ];
        }),
      ),
    }),
  };
}

/** The OpenAPI document's info.title and info.version expectations (required paths are templates with {braces} of their own: never expanded). */
export function walkOpenapiExpectations(expect: OpenapiSpec['expect'], expand: ReleaseExpander): OpenapiSpec['expect'] {
  const text = (wanted: OpenapiSpec['expect']['title'], key: 'title' | 'version') =>
    wanted === undefined ? undefined : typeof wanted === 'string' ? expand(wanted, ['expect', key], 'text') : { matches: expand(wanted.matches, ['expect', key, 'matches'], 'pattern') };
  return { ...expect, title: text(expect.title, 'title'), version: text(expect.version, 'version') };
}

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

type HeaderExpectation = NonNullable<HttpSpec['expect']['headers']>[string];

type JsonValue = z.infer<ReturnType<typeof z.json>>;

function walkJson(value: JsonValue, where: ReleaseField, expand: ReleaseExpander): JsonValue {
  if (typeof value === 'string') return expand(value, where, 'text');
  if (Array.isArray(value)) return value.map((item, i) => walkJson(item, [...where, i], expand));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walkJson(item, [...where, key], expand)]));
  return value;
}
