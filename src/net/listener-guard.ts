/**
 * Event listeners and I/O callbacks run outside any promise: a throw inside one is an uncaught
 * exception, which ends the daemon. Every listener on the probe path goes through guard(), so
 * an exception (a certificate Node cannot describe, a body too large to decode) fails that one
 * probe instead.
 */
export function guard<A extends unknown[]>(fail: (err: Error) => void, listener: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      listener(...args);
    } catch (err) {
      fail(err instanceof Error ? err : new Error(String(err)));
    }
  };
}
