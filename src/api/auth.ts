import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A preHandler that requires `Authorization: Bearer TOKEN` when a token is configured.
 * Compares digests in constant time so the token length does not leak either.
 */
export function requireToken(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match?.[1];
    if (given !== undefined && timingSafeEqual(digest(given.trim()), expected)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="driftwatch"')
      .send({ error: 'unauthorized', code: 'DRIFTWATCH_UNAUTHORIZED', message: 'a bearer token is required (Authorization: Bearer TOKEN)' });
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
