/** HTTP Basic auth as Twilio does it: AccountSid:AuthToken or ApiKeySid:ApiKeySecret, else 401 / 20003. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import { twilioError, type TwilioError } from '../wire/errors.js';

/** The account the request proves, or the 401 to answer (with Twilio's `WWW-Authenticate` header set). */
export function authenticate(core: EmulatorCore, request: FastifyRequest, reply: FastifyReply): Account | TwilioError {
  const account = core.accounts.authenticate(request.headers.authorization);
  if (account) return account;
  reply.header('WWW-Authenticate', 'Basic realm="Twilio API"');
  return twilioError('Unauthenticated');
}
