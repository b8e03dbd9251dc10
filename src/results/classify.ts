import type { Failure, Reason } from './result.js';
import { CheckFailure } from './result.js';

/** Error codes by reason: Node (net, tls, dns), undici (UND_ERR_*), pg (SQLSTATE), driftwatch. */
const CODES: Record<string, Reason> = {
  ENOTFOUND: 'dns', EAI_AGAIN: 'dns', EAI_FAIL: 'dns', EAI_NONAME: 'dns', ESERVFAIL: 'dns', ENODATA: 'dns', ENONAME: 'dns', EBADRESP: 'dns', EFORMERR: 'dns', ENOTIMP: 'dns', EREFUSED: 'dns',
  ECONNREFUSED: 'connect', ECONNRESET: 'connect', EHOSTUNREACH: 'connect', ENETUNREACH: 'connect', EPIPE: 'connect', ECONNABORTED: 'connect', EADDRNOTAVAIL: 'connect',
  UND_ERR_SOCKET: 'connect', UND_ERR_CLOSED: 'connect', UND_ERR_DESTROYED: 'connect',
  ETIMEDOUT: 'timeout', ETIMEOUT: 'timeout', UND_ERR_CONNECT_TIMEOUT: 'timeout', UND_ERR_HEADERS_TIMEOUT: 'timeout', UND_ERR_BODY_TIMEOUT: 'timeout', '57014': 'timeout',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'assertion', UND_ERR_RESPONSE_STATUS_CODE: 'status',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls', SELF_SIGNED_CERT_IN_CHAIN: 'tls', UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls', UNABLE_TO_GET_ISSUER_CERT: 'tls', UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls', HOSTNAME_MISMATCH: 'tls', EPROTO: 'tls',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'tls', ERROR_IN_CERT_NOT_AFTER_FIELD: 'tls', INVALID_CA: 'tls', INVALID_PURPOSE: 'tls', PATH_LENGTH_EXCEEDED: 'tls',
  '28P01': 'auth', '28000': 'auth',
  ERR_INVALID_URL: 'config', DRIFTWATCH_SECRET_UNAVAILABLE: 'config', DRIFTWATCH_REDIRECT_REFUSED: 'config',
};

/** A thrown error's code, looking through undici's and AggregateError's wrapping. */
export function errorCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
  }
  return undefined;
}

function* causes(err: unknown): Generator<object> {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    yield current;
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
}

export function reasonForCode(code: string | undefined): Reason {
  if (code === undefined) return 'error';
  const known = CODES[code];
  if (known) return known;
  if (code.startsWith('CERT_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return 'tls';
  return 'error';
}

/** Turns anything a check threw into a failure with a reason from the closed set. */
export function classifyError(err: unknown): Failure {
  if (err instanceof CheckFailure) return { reason: err.reason, message: err.message };
  const code = errorCode(err);
  const reason = reasonForCode(code);
  return { reason, message: describeError(err, code) };
}

function describeError(err: unknown, code: string | undefined): string {
  const deepest = [...causes(err)].at(-1);
  const message = deepest instanceof Error && deepest.message ? deepest.message : err instanceof Error ? err.message : String(err);
  if (code && !message.includes(code)) return `${message} (${code})`;
  return message;
}
