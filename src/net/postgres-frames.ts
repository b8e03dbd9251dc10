/**
 * Reads only the framing of what a PostgreSQL server sends (a type byte and an int32 length per
 * message), so limits hold before pg-protocol's parser sees a byte: that parser grows its buffer
 * to whatever length a server declares (up to 4 GB) and throws, outside any promise, on an
 * authentication request it cannot read.
 */

export interface WireLimits {
  /** Largest message a server may declare (a DataRow holds a whole row). */
  maxMessageBytes: number;
  /** Everything a server may send in one session. */
  maxTotalBytes: number;
  /** DataRow messages in one session, over all its queries. */
  maxRows: number;
}

export const WIRE_LIMITS: WireLimits = { maxMessageBytes: 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024, maxRows: 10_000 };

/** What the server did that the session refuses; the message says it in the server's terms. */
export class PostgresProtocolViolation extends Error {
  override name = 'PostgresProtocolViolation';
}

const MESSAGE_NAMES: Record<string, string> = {
  R: 'AuthenticationRequest', E: 'ErrorResponse', N: 'NoticeResponse', S: 'ParameterStatus', K: 'BackendKeyData',
  Z: 'ReadyForQuery', T: 'RowDescription', D: 'DataRow', C: 'CommandComplete', A: 'NotificationResponse',
  t: 'ParameterDescription', d: 'CopyData', G: 'CopyInResponse', H: 'CopyOutResponse', W: 'CopyBothResponse',
};

/** The authentication requests pg-protocol can read, and the exact length each has (undefined: 8 or more). */
const AUTH_LENGTHS = new Map<number, number | undefined>([[0, 8], [3, 8], [5, 12], [10, undefined], [11, undefined], [12, undefined]]);
/** Real PostgreSQL methods pg does not speak, named so the message says what the server asked for. */
const UNSUPPORTED_AUTH: Record<number, string> = { 2: 'KerberosV5', 6: 'SCM credential', 7: 'GSSAPI', 8: 'GSSAPI', 9: 'SSPI' };

const HEADER = 5;
/** An AuthenticationRequest's header and its int32 type: read before the parser may see it. */
const AUTH_HEADER = 9;
const R = 0x52;
const D = 0x44;
const EMPTY = Buffer.alloc(0);

/** One session's framing state: carries a partial header across chunks (and across the TLS upgrade). */
export class FrameWatch {
  /** The start of a header that the last chunk cut off (at most 8 bytes). */
  private carry = EMPTY;
  /** Body bytes of the current message not yet passed. */
  private skip = 0;
  private total = 0;
  private rows = 0;

  constructor(private readonly limits: WireLimits = WIRE_LIMITS) {}

  /** Takes the next chunk from the server; a violation means the session must end now. */
  inspect(chunk: Buffer): PostgresProtocolViolation | undefined {
    this.total += chunk.length;
    if (this.total > this.limits.maxTotalBytes) {
      return new PostgresProtocolViolation(`server sent more than ${formatBytes(this.limits.maxTotalBytes)} in one session (limit ${formatBytes(this.limits.maxTotalBytes)})`);
    }
    // Headers are read in place (a chunk holds thousands of small rows); only a cut one is copied.
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    let at = 0;
    while (at < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const left = data.length - at;
      const type = left >= HEADER ? data[at] : undefined;
      const length = left >= HEADER ? data.readUInt32BE(at + 1) : 0;
      if (type === undefined || (type === R && length >= 8 && left < AUTH_HEADER)) {
        this.carry = Buffer.from(data.subarray(at));
        break;
      }
      const violation = type === R ? this.checkAuth(length, length >= 8 ? data.readInt32BE(at + HEADER) : undefined) : this.checkHeader(type, length);
      if (violation) return violation;
      this.skip = length - 4;
      at += HEADER;
    }
    return undefined;
  }

  private checkHeader(type: number, length: number): PostgresProtocolViolation | undefined {
    if (length < 4) return new PostgresProtocolViolation(`server sent a ${messageName(type)} message declaring ${length} bytes, fewer than its own length field`);
    if (length > this.limits.maxMessageBytes) {
      return new PostgresProtocolViolation(`server declared a ${formatBytes(length)} ${messageName(type)} message (limit ${formatBytes(this.limits.maxMessageBytes)})`);
    }
    if (type === D && ++this.rows > this.limits.maxRows) {
      return new PostgresProtocolViolation(`server sent more than ${this.limits.maxRows.toLocaleString('en-US')} rows (limit ${this.limits.maxRows.toLocaleString('en-US')} per session)`);
    }
    return undefined;
  }

  /** pg-protocol throws, outside any promise, on a type it does not know or a message too short to hold one. */
  private checkAuth(length: number, authType: number | undefined): PostgresProtocolViolation | undefined {
    const framing = this.checkHeader(R, length);
    if (framing) return framing;
    if (authType === undefined) return new PostgresProtocolViolation(`server sent an authentication request too short to hold its type (declared length ${length}, at least 8)`);
    if (!AUTH_LENGTHS.has(authType)) {
      const method = UNSUPPORTED_AUTH[authType];
      if (method !== undefined) return new PostgresProtocolViolation(`server asked for ${method} authentication (type ${authType}), which the check does not support`);
      return new PostgresProtocolViolation(`server sent an authentication request of unknown type ${authType}`);
    }
    const exact = AUTH_LENGTHS.get(authType);
    if (exact !== undefined && length !== exact) {
      return new PostgresProtocolViolation(`server sent an authentication request of type ${authType} with length ${length}, expected ${exact}`);
    }
    return undefined;
  }
}

function messageName(code: number): string {
  const type = String.fromCharCode(code);
  const known = MESSAGE_NAMES[type];
  if (known !== undefined) return known;
  return code >= 0x21 && code <= 0x7e ? `'${type}'` : `0x${code.toString(16).padStart(2, '0')}`;
}

/** Binary units, at most one decimal: "2 GiB", "1.5 MiB", "512 bytes". */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}
