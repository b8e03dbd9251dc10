import { request } from 'node:http';

/**
 * One GET on a fresh connection (`agent: false`), the body read and dropped: the request a probe
 * makes, as the raw client and the minimal server make it. `done` gets the status, or 0 when it
 * failed. A callback, not a promise: the raw client's figures are those of one promise a request.
 */
export function httpGetOnce(url: string, done: (status: number) => void, timeoutMs = 5000): void {
  const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
    res.on('data', () => undefined);
    res.on('end', () => {
      done(res.statusCode ?? 0);
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    done(0);
  });
  req.end();
}
