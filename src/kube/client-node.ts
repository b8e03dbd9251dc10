/**
 * @kubernetes/client-node is loaded on demand: it costs tens of MB of memory and about half a
 * second of start-up, which a daemon or CLI run without Kubernetes checks should not pay.
 * Elsewhere in src/ it is only imported with `import type`.
 */
type ClientNode = typeof import('@kubernetes/client-node');

let loading: Promise<ClientNode> | undefined;

/**
 * The module, imported once per process. A failed import is not kept: the next call tries
 * again (and the check that needed it reports the error).
 */
export function loadClientNode(): Promise<ClientNode> {
  if (loading) return loading;
  const attempt = import('@kubernetes/client-node');
  loading = attempt;
  attempt.catch(() => {
    if (loading === attempt) loading = undefined;
  });
  return attempt;
}
