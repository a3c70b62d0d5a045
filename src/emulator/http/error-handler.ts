/** One error handler for the whole app: Twilio's envelope for everything, never a stack trace. */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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

/**
 * What fastify answers itself, before any route (its `frameworkErrors` option): a path that is not valid
 * percent-encoding (`%zz`), a path segment over the router's limit (as if no resource had that name).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0];
  const answer =
    error.code === 'FST_ERR_BAD_URL'
      ? twilioError('MalformedUrl', { path })
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? twilioError('NotFound', { path: path.replace(/^\/v1/, '') })
        : twilioError('InvalidParameter', { message: error.message });
  reply.code(answer.status).send(answer.toJSON());
}

/**
 * What node's HTTP server answers a connection that broke the protocol or its deadlines (fastify's
 * `clientErrorHandler`): Twilio's envelope written on the socket, which is then closed. `requestTimeoutMs` is the
 * deadline for a request's headers and body (app.ts).
 */
export function clientErrorAnswer(requestTimeoutMs: number): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? twilioError('RequestTimeout', { seconds: requestTimeoutMs / 1000 })
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? twilioError('HeadersTooLarge')
          : twilioError('MalformedRequest');
    // as node does: never after an answer has begun (say a 401 sent before the body finished arriving)
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(answer.toJSON());
      socket.write(
        `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}
