import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A preHandler that requires `Authorization: Bearer TOKEN` when a token is configured.
 * Compares digests in constant time so the token length does not leak either.
 */
export function requireToken(token: string | undefined) {
  const accepts = tokenCheck(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (accepts === undefined) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match?.[1];
    if (given !== undefined && accepts(given.trim())) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="driftwatch"')
      .send({ error: 'unauthorized', code: 'DRIFTWATCH_UNAUTHORIZED', message: 'a bearer token is required (Authorization: Bearer TOKEN)' });
  };
}

/**
 * Whether a given token is the configured one, in constant time; undefined when no token is
 * configured (everything is accepted). For callers that cannot send a header (Flagger's webhooks).
 */
export function tokenCheck(token: string | undefined): ((given: string) => boolean) | undefined {
  if (token === undefined) return undefined;
  const expected = digest(token);
  return (given) => timingSafeEqual(digest(given), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
