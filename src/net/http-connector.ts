import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { orderAddresses, type IpPreference } from './address-lookup.js';
import { CertificateError, describeTls, describeVerifyError, type TlsInfo } from './certificate.js';
import { guard } from './listener-guard.js';
import { plainConnect } from './plain-connect.js';
import { clientContext } from './tls-contexts.js';

/** One connection's setup, timed by phase; filled in as the connection progresses, so a failure still tells what was seen. */
export interface Connection {
  dns: number;
  connect: number;
  tls: number;
  address: string | undefined;
  /** performance.now() when the connection could carry a request. */
  readyAt: number;
  tlsInfo?: TlsInfo;
}

export interface DialOptions {
  url: URL;
  /** Dial this IP when the URL's hostname is `pinnedHost` (curl --resolve). */
  resolve?: { host: string; address: string; port?: number; from?: string } | undefined;
  /** PEM text to trust instead of the system roots. */
  ca?: string | undefined;
  insecureSkipVerify?: boolean | undefined;
  ipPreference?: IpPreference | undefined;
  trace?: ((step: string, data?: Record<string, unknown>) => void) | undefined;
  /** Every socket dialled, so the caller can destroy them all when the request ends or aborts. */
  sockets: Set<Socket>;
}

/**
 * Dials a fresh connection for `url` and resolves with the socket once it can carry a request.
 * DNS is timed inside our lookup (net calls it synchronously, so the socket's own lookup event
 * comes too late to time), TCP at `connect`, TLS at `secureConnect`. Verification is ours: Node
 * would destroy the socket before we saw the certificate, so we connect with rejectUnauthorized
 * false and fail the connection ourselves, before any request byte (or header secret) is written.
 */
export function dial(options: DialOptions, connection: Connection): Promise<Socket> {
  const { url, trace } = options;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const https = url.protocol === 'https:';
  const pinnedPort = options.resolve?.port !== undefined && options.resolve.host === hostname && options.resolve.from === url.port ? options.resolve.port : undefined;
  const port = pinnedPort ?? (Number(url.port) || (https ? 443 : 80));
  const servername = isIP(hostname) ? undefined : hostname;
  const started = performance.now();
  let dnsDone = started;
  connection.address = isIP(hostname) ? hostname : undefined;

  // Set once the socket exists; a failure in our lookup callback (net calls it from dns) goes there.
  let failDial: (err: Error) => void = () => undefined;
  const lookup = (name: string, lookupOptions: LookupOptions, done: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    const lookupStart = performance.now();
    const pinned = options.resolve !== undefined && name === options.resolve.host;
    // On failure dns.lookup passes no addresses at all (its typings say otherwise).
    const answer = guard(
      (err) => {
        failDial(err);
      },
      (err: Error | null, found: LookupAddress[] | undefined) => {
        const addresses = orderAddresses(found ?? [], pinned ? undefined : options.ipPreference);
        if (!err && addresses.length === 0 && found?.length) err = Object.assign(new Error(`no IPv${options.ipPreference?.prefer ?? ''} address for ${name} (ipProtocolFallback: false)`), { code: 'ENOTFOUND' });
        dnsDone = performance.now();
        connection.dns = dnsDone - lookupStart;
        connection.address = addresses[0]?.address;
        trace?.('dns', { hostname: name, addresses: addresses.map((a) => a.address), pinned, dnsMs: round(connection.dns) });
        if (err) done(err, []);
        else if (lookupOptions.all) done(null, addresses);
        else done(null, addresses[0]?.address ?? '', addresses[0]?.family);
      },
    );
    if (pinned && options.resolve) process.nextTick(answer, null, [{ address: options.resolve.address, family: isIP(options.resolve.address) }]);
    else dnsLookup(name, { family: lookupOptions.family, hints: lookupOptions.hints, all: true }, answer);
  };

  const socket: Socket = https
    ? tlsConnect({ host: hostname, port, servername, secureContext: clientContext(options.ca), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], lookup })
    : plainConnect({ host: hostname, port, lookup });
  options.sockets.add(socket);
  socket.setNoDelay(true);

  return new Promise<Socket>((resolve, reject) => {
    let connectedAt = started;
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    failDial = fail;
    // A destroy from outside (abort, end of the request) fails the dial too, or it would wait forever.
    const onClose = () => {
      fail(Object.assign(new Error('connection closed while connecting'), { code: 'ECONNABORTED' }));
    };
    // on, not once: each fires at most once here, and once() wraps every listener (issue 29: garbage per run).
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.on(
      'connect',
      guard(fail, () => {
        connectedAt = performance.now();
        connection.connect = connectedAt - dnsDone;
        connection.address = socket.remoteAddress ?? connection.address;
        trace?.('connected', { address: connection.address, port, connectMs: round(connection.connect) });
      }),
    );
    socket.on(
      https ? 'secureConnect' : 'connect',
      guard(fail, () => {
        socket.off('error', fail);
        socket.off('close', onClose);
        // From here errors are the request's to report (node:http listens once it has the
        // socket); this keeps one in between from being an uncaught 'error' event.
        socket.on('error', ignore);
        connection.readyAt = performance.now();
        if (socket instanceof TLSSocket) {
          connection.tls = connection.readyAt - connectedAt;
          const tlsInfo = describeTls(socket);
          connection.tlsInfo = tlsInfo;
          trace?.('tls', { tlsMs: round(connection.tls), ...tlsInfo });
          // A certificate that cannot be described is refused even with insecureSkipVerify: nothing about it can be reported.
          if (tlsInfo.unreadable) {
            fail(new CertificateError(tlsInfo.unreadable.code, tlsInfo.unreadable.message));
            return;
          }
          if (!socket.authorized && !options.insecureSkipVerify) {
            const code = tlsInfo.verifyError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
            fail(new CertificateError(code, describeVerifyError(code, tlsInfo.certificate, servername ?? hostname)));
            return;
          }
        }
        resolve(socket);
      }),
    );
  });
}

function ignore(): void {
  // see dial()
}

export function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
