/**
 * The router's own API, behind a bearer token:
 * - GET  /api/conversations/{sid|uniqueName}/state  derived state (operators, the scenario suites)
 * - POST /api/messages {conversation, body, channel?, author?}  a send, checked against suppression first
 * - GET  /api/suppressions  the suppression list
 */
import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../store/types.js';
import type { SuppressionList } from '../compliance/suppression-list.js';
import type { TwilioGateway } from '../twilio/gateway.js';
import { TwilioCallError } from '../twilio/errors.js';
import type { RouterConfig } from '../config-types.js';
import type { RouterMetrics } from '../metrics.js';
import { bearerAuth } from './bearer-auth.js';
import { readConversationState } from './conversation-state.js';
import { decideSend } from './send-check.js';

export interface ApiDeps {
  config: RouterConfig;
  events: EventStore;
  suppressions: SuppressionList;
  gateway: TwilioGateway;
  metrics: RouterMetrics;
}

interface SendBody {
  conversation: string;
  body: string;
  channel?: 'sms' | 'whatsapp';
  author?: string;
}

const sendSchema = {
  type: 'object',
  required: ['conversation', 'body'],
  additionalProperties: false,
  properties: {
    conversation: { type: 'string', minLength: 1, maxLength: 256 },
    body: { type: 'string', minLength: 1, maxLength: 1600 },
    channel: { type: 'string', enum: ['sms', 'whatsapp'] },
    author: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { config, events, suppressions, gateway, metrics } = deps;
  app.addHook('onRequest', bearerAuth(config.apiToken));
  // our error shape, not fastify's, for a body that fails the schema
  app.setErrorHandler(async (error: { validation?: unknown; statusCode?: number; message: string }, _request, reply) => {
    if (error.validation) return reply.code(400).send({ error: 'invalid_request', message: error.message });
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'internal' : 'invalid_request', message: status === 500 ? 'internal error' : error.message });
  });

  app.get<{ Params: { id: string } }>('/conversations/:id/state', async (request, reply) => {
    const view = await readConversationState(events, request.params.id);
    if (!view) return reply.code(404).send({ error: 'not_found', message: `no conversation ${request.params.id} in the router's state` });
    return view;
  });

  app.get('/suppressions', async () => ({ suppressions: await suppressions.list() }));

  app.post<{ Body: SendBody }>('/messages', { schema: { body: sendSchema } }, async (request, reply) => {
    const { conversation, body, channel, author } = request.body;
    const view = await readConversationState(events, conversation);
    let contentSid: string | undefined;
    if (view) {
      const decision = await decideSend(view, suppressions, {
        channel,
        whatsappTemplateSid: config.fallback.whatsappTemplateSid,
        now: Date.now(),
      });
      if (!decision.send) {
        metrics.sendsRefused.inc({ reason: decision.error });
        return reply.code(422).send({ error: decision.error, message: decision.message });
      }
      contentSid = decision.contentSid;
    }
    const sid = view?.conversation.sid ?? conversation;
    try {
      const message = await gateway.postMessage(sid, { author: author ?? 'system', body, ...(contentSid ? { contentSid } : {}) }, { webhooks: true });
      return reply.code(201).send({ sid: message.sid });
    } catch (error) {
      if (error instanceof TwilioCallError) {
        const status = error.status === 404 ? 404 : 502;
        return reply.code(status).send({ error: status === 404 ? 'not_found' : 'twilio_error', code: error.code, message: error.message });
      }
      throw error;
    }
  });
}
