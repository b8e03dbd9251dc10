import { connect, type NetConnectOpts, type Socket } from 'node:net';

/**
 * net.connect with its options copied into an object without a prototype. With an ordinary
 * object literal every socket (and its stream states) outlived two young-generation GCs and went
 * to the old space: 0.6 KB per scheduled http run on a run thread, a full GC every few seconds;
 * with this, none (`--trace-gc-nvp` and the scale bench's promoted column, 2,000 http checks at
 * 1 s). A bare script shows the same with nothing but net.connect({ host, port }): 0.37-0.48 KB
 * promoted per connection, none with a null-prototype object, none for http.Agent's sockets
 * (whose options have no prototype either). Why V8 keeps them is not known. tls.connect copies
 * its options into an object of its own, so this does not reach a TLS connection.
 */
export function plainConnect(options: NetConnectOpts): Socket {
  return connect(Object.assign(Object.create(null) as NetConnectOpts, options));
}
