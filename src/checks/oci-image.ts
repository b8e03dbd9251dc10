import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { secretRef } from '../config/secret.js';
import { resolveManifest, type ManifestAnswer, type RegistryCredentials } from '../net/registry-client.js';
import { REALM_ORIGIN_WANTED, parseRealmOrigin } from '../net/registry-realm.js';
import { formatRegistryReference, parseRegistryReference, type RegistryReference } from '../net/registry-reference.js';
import { expandRelease, RELEASE_PLACEHOLDER } from '../config/release.js';
import { CheckFailure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';
import { ipAddress } from './http.js';

/** `tag: release`, as k8s-rollout's expect.tag has it: the release under verification. */
const RELEASE_TAG = 'release';

export const schema = z
  .strictObject({
    ...baseFields,
    type: z.literal('oci-image'),
    image: z
      .string()
      .refine((text) => parseRegistryReference(text.split(RELEASE_PLACEHOLDER).join(RELEASE_TAG)) !== undefined, {
        error: 'must be an image reference REGISTRY/REPOSITORY:TAG (or @sha256:DIGEST), e.g. gitea.coulomb.social/coulomb/inter-hub:{release}',
      })
      .meta({ description: 'REGISTRY/REPOSITORY:TAG or @DIGEST; {release} in the tag (or the tag "release") is the release under verification' }),
    username: z.string().min(1).optional().meta({ description: 'user for the token realm or basic auth; with password' }),
    password: secretRef.optional().meta({ description: 'password or access token of username, as a secret reference' }),
    token: secretRef.optional().meta({ description: 'a registry bearer token sent as is (instead of username and password)' }),
    resolve: ipAddress.optional().meta({ description: "dial this IP for the registry's host name; SNI and certificate checks keep the name" }),
    ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots (registry and token realm)' }),
    realmAllow: z
      .array(z.string().refine((text) => parseRealmOrigin(text) !== undefined, { error: REALM_ORIGIN_WANTED }))
      .optional()
      .meta({
        description:
          "origins (https://HOST[:PORT]) besides the registry's own that may receive username and password as its token realm, e.g. https://auth.example.com; Docker Hub's https://auth.docker.io is allowed for docker.io",
      }),
  })
  .superRefine((spec, ctx) => {
    if (spec.username !== undefined && spec.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'username needs a password (a secret reference)' });
    if (spec.password !== undefined && spec.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'password needs a username' });
    if (spec.token !== undefined && spec.username !== undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either token or username and password, not both' });
  });
export type OciImageSpec = z.infer<typeof schema>;

export interface OciImageObservations {
  /** The reference asked for, {release} filled in. */
  image: string;
  registry?: string;
  repository?: string;
  /** The tag (or digest) the manifest was asked for. */
  reference?: string;
  digest?: string;
  mediaType?: string;
  auth?: ManifestAnswer['auth'];
  scope?: string;
  digestVerified?: boolean;
}

/** An image tag published in its registry, and the digest it points at now. */
export const check: CheckType<OciImageSpec, OciImageObservations> = {
  async run(spec, ctx) {
    const image = imageOf(spec, ctx);
    const observations: OciImageObservations = { image: formatRegistryReference(image), registry: image.registry, repository: image.repository, reference: image.reference };
    try {
      const answer = await ask(spec, image, ctx);
      Object.assign(observations, { digest: answer.digest, mediaType: answer.mediaType, auth: answer.auth, scope: answer.scope, digestVerified: answer.verified });
      return { observations, message: `${observations.image} is ${answer.digest}` };
    } catch (err) {
      if (!(err instanceof CheckFailure)) throw err;
      return { observations, failure: { reason: err.reason, message: err.message } };
    }
  },
};

/**
 * The digest the registry serves now for an oci-image check's image, as that check resolves it
 * (its credentials, CA and pinned address): what a k8s-rollout's expect.digestFrom compares the
 * running pods with. Throws CheckFailure like the check fails.
 */
export async function resolveImageDigest(spec: OciImageSpec, ctx: RunContext): Promise<{ image: string; digest: string }> {
  const image = imageOf(spec, ctx);
  const answer = await ask(spec, image, ctx);
  return { image: formatRegistryReference(image), digest: answer.digest };
}

async function ask(spec: OciImageSpec, image: RegistryReference, ctx: RunContext): Promise<ManifestAnswer> {
  return resolveManifest({
    image,
    credentials: await credentialsOf(spec),
    ca: spec.ca,
    resolve: spec.resolve,
    realmAllow: spec.realmAllow,
    signal: ctx.signal,
    trace: ctx.trace.bind(ctx),
    // Also for k8s-rollout's digestFrom, whose run does not hold this spec's secrets.
    redact: ctx.redact.bind(ctx),
  });
}

/** The reference with the release filled in; without a release, a config failure. */
function imageOf(spec: OciImageSpec, ctx: RunContext): RegistryReference {
  const release = ctx.services.release;
  const parsed = parseRegistryReference(expandRelease(spec.image, release, 'image'));
  if (!parsed) throw new CheckFailure('config', `image ${spec.image} with release ${release ?? ''} is not an image reference`);
  if (parsed.digest !== undefined || parsed.tag !== RELEASE_TAG) return parsed;
  if (release === undefined) throw new CheckFailure('config', 'image tag is "release" but no release was given (driftwatch run/serve --release TAG)');
  const withRelease = parseRegistryReference(`${parsed.registry}/${parsed.repository}:${release}`);
  if (!withRelease) throw new CheckFailure('config', `release ${JSON.stringify(release)} is not an image tag`);
  return withRelease;
}

async function credentialsOf(spec: OciImageSpec): Promise<RegistryCredentials> {
  if (spec.token !== undefined) return { token: await spec.token.reveal() };
  if (spec.username !== undefined && spec.password !== undefined) return { username: spec.username, password: await spec.password.reveal() };
  return undefined;
}
