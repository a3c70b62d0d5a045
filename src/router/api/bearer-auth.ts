/** `Authorization: Bearer <token>` on the router's own API, compared in constant time. No token set: nobody gets in. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function bearerAuth(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (expected && given !== undefined && timingSafeEqual(digest(given), expected)) return;
    const message = expected ? 'a valid Authorization: Bearer <api token> header is required' : 'the API is off: start the router with --api-token (TCE_ROUTER_API_TOKEN)';
    await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message });
  };
}
