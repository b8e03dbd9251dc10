import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type pg from 'pg';
import { FrameWatch, PostgresProtocolViolation, WIRE_LIMITS, type WireLimits } from './postgres-frames.js';

/** Longest text of the server's a failure may carry (an ErrorResponse can hold a megabyte). */
export const MAX_SERVER_TEXT = 500;

/**
 * Puts a guard between a pg Connection's socket and pg-protocol's parser, for one session.
 *
 * pg attaches its parser in Connection.attachListeners(stream): on the plain socket, or on the
 * TLS socket after the upgrade, so this one hook sees every byte the protocol reads, under every
 * sslmode. The parser listens to a relay instead of the socket; each chunk reaches it only after
 * FrameWatch checked its framing against the limits, and a throw from the parser (or from pg's
 * handlers it calls) ends the session with an error instead of escaping the 'data' listener as an
 * uncaught exception. Either way the socket is destroyed with the reason, which pg hands to the
 * pending connect() or query().
 */
export function guardConnection(connection: pg.Connection, limits: WireLimits = WIRE_LIMITS): void {
  const attach: unknown = Reflect.get(connection, 'attachListeners');
  // Verified against pg 8.23; a pg without this hook must fail loudly, not run unguarded.
  if (typeof attach !== 'function') throw new Error('pg Connection.attachListeners not found: the PostgreSQL wire guard cannot attach (pg version changed?)');
  const frames = new FrameWatch(limits);
  Object.defineProperty(connection, 'attachListeners', {
    configurable: true,
    value: (stream: Duplex) => {
      const relay = new EventEmitter();
      Reflect.apply(attach, connection, [relay]);
      relayChecked(stream, relay, frames);
    },
  });
  // Before pg's own listener (added in connect()), so the error pg passes on is already short.
  connection.prependListener('errorMessage', shortenErrorFields);
}

/**
 * Passes each chunk from the socket to the parser's relay once its framing passed, synchronously
 * as pg itself would (so an ErrorResponse is read before a reset that follows it). What one
 * burst of reads can make the parser do is bounded by the limits, not by yielding.
 */
function relayChecked(stream: Duplex, relay: EventEmitter, frames: FrameWatch): void {
  let failed = false;
  const fail = (err: Error) => {
    failed = true;
    stream.destroy(err);
  };
  stream.on('data', (chunk: unknown) => {
    if (failed) return;
    if (!Buffer.isBuffer(chunk)) {
      fail(new PostgresProtocolViolation('the PostgreSQL socket delivered text instead of bytes'));
      return;
    }
    const violation = frames.inspect(chunk);
    if (violation) {
      fail(violation);
      return;
    }
    try {
      relay.emit('data', chunk);
    } catch (err) {
      fail(new PostgresProtocolViolation(`server sent a message the PostgreSQL client could not read: ${shortenServerText(err instanceof Error ? err.message : String(err), 200)}`));
    }
  });
}

/** An ErrorResponse's fields (message, detail, hint, where...) and the stack that repeats the message, each cut. */
function shortenErrorFields(error: unknown): void {
  if (!(error instanceof Error)) return;
  error.message = shortenServerText(error.message);
  if (error.stack !== undefined) error.stack = shortenServerText(error.stack);
  for (const key of Object.keys(error)) {
    const value: unknown = Reflect.get(error, key);
    if (typeof value === 'string') Reflect.set(error, key, shortenServerText(value));
  }
}

/** Cuts text that came from the server to at most max characters, saying how long it was (cutting twice changes nothing). */
export function shortenServerText(text: string, max = MAX_SERVER_TEXT): string {
  if (text.length <= max) return text;
  const note = `... (${text.length.toLocaleString('en-US')} characters in all)`;
  return `${text.slice(0, Math.max(0, max - note.length))}${note}`;
}
