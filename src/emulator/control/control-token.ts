/**
 * `--control-token`: every route of a plugin answers 401 / 20003 without `Authorization: Bearer <token>`, except the
 * routes named open (by route URL). The control plane and the inspector's API share this one check.
 */
import { timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';
import { twilioError } from '../wire/errors.js';

export function requireControlToken(token: string, open: ReadonlySet<string>): onRequestAsyncHookHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (request, reply) => {
    if (open.has(request.routeOptions.url ?? '')) return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    reply.header('WWW-Authenticate', 'Bearer');
    throw twilioError('Unauthenticated');
  };
}
