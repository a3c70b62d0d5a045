/** One error handler for the whole app: Twilio's envelope for everything, never a stack trace. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwilioError, twilioError } from '../wire/errors.js';
import type { Database } from '../store/database.js';

/** `store`: a failure of its file (full disk, I/O error, …) is said on stderr, once, naming the file. */
export function installErrorHandling(app: FastifyInstance, store?: Database): void {
  app.setErrorHandler((error: FastifyError | TwilioError, request, reply) => {
    let answer: TwilioError;
    if (error instanceof TwilioError) answer = error;
    else if (error.statusCode === 415) answer = twilioError('UnsupportedMediaType', { contentType: String(request.headers['content-type']) });
    else if (error.statusCode === 413) answer = twilioError('PayloadTooLarge');
    else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      answer = twilioError('InvalidParameter', { message: error.message });
    } else {
      request.log.error({ err: error }, 'unexpected error');
      store?.noteFailure(error);
      answer = twilioError('InternalError');
    }
    reply.code(answer.status).send(answer.toJSON());
  });
  app.setNotFoundHandler(notFound);
}

export function notFound(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0].replace(/^\/v1/, '');
  const error = twilioError('NotFound', { path });
  reply.code(error.status).send(error.toJSON());
}
