/**
 * An image reference as a registry client reads it: which host to ask, which repository, which
 * tag or digest. Grammar after distribution's reference package (reference/regexp.go), without
 * its rarely used forms (IPv6 hosts); Docker Hub names are mapped as the Docker client does.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Where Docker Hub's API is, for references written as docker.io/... or with no registry at all. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface RegistryReference {
  /** host[:port] the API is asked at (registry-1.docker.io for Docker Hub). */
  registry: string;
  /** Repository path inside the registry: coulomb/inter-hub, library/nginx. */
  repository: string;
  /** What the manifest is asked for: the digest when one is written, else the tag (default latest). */
  reference: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Splits `registry/repo:tag` (or `@digest`); undefined when the text is not a reference. The
 * first component is a registry when it has a dot or a port or is localhost, as Docker decides.
 */
export function parseRegistryReference(text: string): RegistryReference | undefined {
  const match = REFERENCE.exec(text);
  if (!match) return undefined;
  const [, first, rest = '', tag, digest] = match;
  let registry: string;
  let repository: string;
  if (first !== undefined && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    repository = rest;
  } else {
    registry = 'docker.io';
    repository = first === undefined ? rest : `${first}/${rest}`;
  }
  if (registry === 'docker.io' || registry === 'index.docker.io') {
    registry = DOCKER_HUB_API;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (repository.length > 255) return undefined;
  const ref = digest ?? tag ?? 'latest';
  return { registry, repository, reference: ref, tag: digest === undefined ? (tag ?? 'latest') : tag, digest };
}

/** How messages and observations show a reference: registry/repository:tag (or @digest). */
export function formatRegistryReference(ref: RegistryReference): string {
  const at = ref.digest === undefined ? `:${ref.tag ?? 'latest'}` : `@${ref.digest}`;
  return `${ref.registry}/${ref.repository}${at}`;
}
