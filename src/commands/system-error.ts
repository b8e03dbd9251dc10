/** What went wrong with a file or a socket, in words, from a Node system error's code. */
const WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EADDRINUSE: 'address already in use: another process listens there',
  EADDRNOTAVAIL: 'address not available: no interface of this machine has it',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

/** "permission denied (EACCES)" for a system error, else the error's message. */
export function describeSystemError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const words = code === undefined ? undefined : WORDS[code];
  if (code !== undefined && words !== undefined) return `${words} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
