/** A container image reference split the way registries read it. */
export interface ImageRef {
  /** Normalised repository: docker.io/library/nginx for "nginx", as the container runtime pulls it. */
  repository: string;
  /** The tag; "latest" when neither tag nor digest is written (the runtime's default). */
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Splits registry/path/name:tag@digest. A colon before the last slash is a registry port, not a
 * tag. Docker Hub short names are normalised so "nginx" and "docker.io/library/nginx" compare equal.
 */
export function parseImage(reference: string): ImageRef {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { repository: normaliseRepository(rest), tag, digest };
}

function normaliseRepository(repository: string): string {
  const parts = repository.split('/');
  const first = parts[0] ?? '';
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) {
    return first === 'index.docker.io' || first === 'registry-1.docker.io' ? ['docker.io', ...parts.slice(1)].join('/') : repository;
  }
  return parts.length === 1 ? `docker.io/library/${repository}` : `docker.io/${repository}`;
}

/** The expectation of a rollout check: a repository, a tag, or both. */
export interface ImageExpectation {
  repository: string | undefined;
  tag: string | undefined;
}

/** Whether one running image meets the expectation. */
export function imageMatches(image: string, expected: ImageExpectation): boolean {
  const actual = parseImage(image);
  if (expected.repository !== undefined && actual.repository !== parseImage(expected.repository).repository) return false;
  return expected.tag === undefined || actual.tag === expected.tag;
}

/** How messages show the expectation: "registry/hub:abc123", "registry/hub", "tag abc123". */
export function describeExpectation(expected: ImageExpectation): string {
  if (expected.repository === undefined) return `tag ${expected.tag ?? '(any)'}`;
  return expected.tag === undefined ? expected.repository : `${expected.repository}:${expected.tag}`;
}
