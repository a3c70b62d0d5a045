/**
 * The router's webhook ingress, as a fastify plugin. Each post-event request does three things, then answers 200:
 * check the signature (403 when missing or bad, counted; the body is never logged), decode the params, hand the
 * event to `accept` (dedupe + durable enqueue in one commit). A duplicate answers 200 as well: Twilio must stop
 * retrying it. When `accept` cannot commit the answer is 503, counted (Twilio retries it only with `#rp=5xx`/`all`
 * in the webhook URL: nothing acknowledged is lost, and nothing unacknowledged is claimed).
 * - `paths.webhook`: Conversations post-events (source `conversations`), 200 empty.
 * - `paths.inbound`: Messaging inbound (`messaging-inbound`), 200 with empty TwiML, so Twilio replies nothing.
 * - `paths.status`: Messaging status callbacks (`messaging-status`), 200 empty.
 * - `paths.preEvent`: decided synchronously (pre-event.ts), nothing enqueued: 200 allows, 403 refuses.
 * The plugin is encapsulated: its body parsers and error handler apply to these routes only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouterConfig } from '../config-types.js';
import type { EventParams, IncomingEvent } from '../events.js';
import type { AcceptResult } from '../store/types.js';
import { BodyError, decodeJson, formOf, MAX_BODY_BYTES, rawBodyOf, registerRawBodyParsers, type RawBody } from './body.js';
import { toIncomingEvent, type IngressSource } from './dedupe-key.js';
import { compilePreEventPolicy, decidePreEvent, type LookupConversation } from './pre-event.js';
import { checkSignature, publicUrlOf, type SignatureFailure } from './signature.js';

/**
 * The counters the ingress bumps (metrics.ts maps them to Prometheus):
 * - `received` {source}: every request on an ingress path (pre-event: source `pre-event`)
 * - `signature_rejected` {source, reason}: answered 403 for its signature
 * - `bad_request` {source}: a body that could not be decoded (400)
 * - `deduplicated` {source}, `queued` {source}: accept() said duplicate / accepted
 * - `accept_failed` {source}: accept() threw (503)
 * - `pre_event` {decision: allow|deny, policy: identity|tenant|pii|none}
 */
export interface IngressMetrics {
  inc(name: string, labels?: Record<string, string>): void;
}

/** A pino-compatible logger (pino's and fastify's loggers fit). */
export interface IngressLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface IngressOptions {
  config: RouterConfig;
  /** dedupe + durable enqueue (EventStore.accept with the configured window); throws only when it cannot commit */
  accept(event: IncomingEvent): Promise<AcceptResult>;
  metrics?: IngressMetrics;
  log: IngressLogger;
  /** the conversation's attributes, for the pre-event tenant policy */
  lookupConversation?: LookupConversation;
  /** default MAX_BODY_BYTES (1 MiB); larger bodies get 413 */
  bodyLimit?: number;
  /** the clock for receivedAt (tests) */
  now?: () => number;
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export async function ingressRoutes(app: FastifyInstance, options: IngressOptions): Promise<void> {
  const { config, accept, log } = options;
  const count = (name: string, labels?: Record<string, string>) => options.metrics?.inc(name, labels);
  const now = options.now ?? Date.now;
  const policy = compilePreEventPolicy(config.preEvent);
  if (config.validateSignature && !config.authToken) {
    log.error({}, 'TWILIO_AUTH_TOKEN is not set and signature validation is on: every webhook will be refused with 403');
  }

  registerRawBodyParsers(app, options.bodyLimit ?? MAX_BODY_BYTES);
  // parser errors (413, 415, aborted bodies) and anything unexpected: a short answer, no stack, no body
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.error({ reqId: request.id, path: pathOf(request.url), code: err.code, err: err.message }, 'ingress error');
    void reply.code(status).send({ error: err.code ?? 'error', message: status >= 500 ? 'internal error' : err.message });
  });

  /** null when the request may go on; otherwise the 403 has been sent */
  const verify = (request: FastifyRequest, reply: FastifyReply, source: string, body: RawBody): 'valid' | 'unchecked' | null => {
    if (!config.validateSignature) return 'unchecked';
    const url = publicUrlOf(
      // originalUrl: the target as received, even when the app rewrites URLs (rewriteUrl)
      { url: request.originalUrl, headers: request.headers, encrypted: isEncrypted(request) },
      { publicUrl: config.publicUrl, trustProxy: config.trustProxy },
    );
    const verdict = checkSignature({ authToken: config.authToken, headers: request.headers, body, url });
    if (verdict.ok) return 'valid';
    refuse(request, reply, source, verdict.reason);
    return null;
  };

  const refuse = (request: FastifyRequest, reply: FastifyReply, source: string, reason: SignatureFailure) => {
    count('signature_rejected', { source, reason });
    // what identifies the request, never its body or params
    const fields = { reqId: request.id, source, path: pathOf(request.url), reason };
    if (reason === 'no-auth-token') log.error(fields, 'webhook refused: TWILIO_AUTH_TOKEN is not set, signatures cannot be checked');
    else log.warn(fields, 'webhook refused: bad signature');
    void reply.code(403).type('text/plain; charset=utf-8').send('invalid signature');
  };

  /** params, or null when the 400 has been sent */
  const decode = (request: FastifyRequest, reply: FastifyReply, source: string, body: RawBody): EventParams | null => {
    try {
      return body.kind === 'json' ? decodeJson(body.raw) : formOf(body).params;
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      count('bad_request', { source });
      log.warn({ reqId: request.id, source, path: pathOf(request.url), reason: err.message }, 'webhook refused: bad body');
      void reply.code(400).send({ error: 'bad_request', message: err.message });
      return null;
    }
  };

  const postEvent = (source: IngressSource, answer: (reply: FastifyReply) => FastifyReply) => async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = now();
    count('received', { source });
    const body = rawBodyOf(request.body);
    const signature = verify(request, reply, source, body);
    if (signature === null) return reply;
    const params = decode(request, reply, source, body);
    if (params === null) return reply;
    const event = toIncomingEvent(source, params, request.headers, { receivedAt, signature, correlationId: String(request.id) });
    let result: AcceptResult;
    try {
      result = await accept(event);
    } catch (err) {
      count('accept_failed', { source });
      log.error({ reqId: request.id, source, eventType: event.eventType, err: (err as Error).message }, 'webhook not committed: answering 503');
      return reply.code(503).type('text/plain; charset=utf-8').send('try again');
    }
    count(result.status === 'duplicate' ? 'deduplicated' : 'queued', { source });
    return answer(reply);
  };

  const empty = (reply: FastifyReply) => reply.code(200).send();
  app.post(config.paths.webhook, postEvent('conversations', empty));
  app.post(config.paths.status, postEvent('messaging-status', empty));
  app.post(config.paths.inbound, postEvent('messaging-inbound', (reply) => reply.code(200).type('text/xml').send(EMPTY_TWIML)));

  app.post(config.paths.preEvent, async (request, reply) => {
    const source = 'pre-event';
    count('received', { source });
    const body = rawBodyOf(request.body);
    if (verify(request, reply, source, body) === null) return reply;
    const params = decode(request, reply, source, body);
    if (params === null) return reply;
    const decision = await decidePreEvent(policy, params, { lookupConversation: options.lookupConversation });
    if (decision.allow) {
      count('pre_event', { decision: 'allow', policy: 'none' });
      return reply.code(200).send();
    }
    count('pre_event', { decision: 'deny', policy: decision.policy });
    log.info({ reqId: request.id, eventType: params.EventType, policy: decision.policy, reason: decision.reason }, 'pre-event refused');
    return reply.code(403).send({ error: decision.policy, message: decision.reason });
  });
}

function isEncrypted(request: FastifyRequest): boolean {
  return (request.raw.socket as { encrypted?: boolean } | null)?.encrypted === true;
}

/** the path without its query (the query may carry operator data; the path is enough to tell endpoints apart) */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
