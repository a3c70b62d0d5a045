/**
 * Pre-event webhooks on REST writes (decisions.md: they fire only with `X-Twilio-Webhook-Enabled: true`, like
 * post-events). The consumer decides before anything is stored: 4xx/5xx rejects the request with Twilio's
 * error and nothing is written (so no post-event either); a 200 with JSON may change the fields Twilio lets it
 * change; no answer within 5 s lets the change through unchanged (twilio-facts.md §5).
 */
import type { EmulatorCore } from '../core.js';
import type { OperationContext } from '../resources/context.js';
import type { Input } from '../resources/descriptor.js';
import * as engine from '../resources/engine.js';
import { twilioError } from '../wire/errors.js';
import type { Route } from './routes.js';

export interface PreEvent {
  eventType: string;
  resource: string;
  /** JSON keys of the consumer's answer → the request parameter each one replaces */
  changes: Record<string, string>;
}

const MESSAGE_CHANGES = { body: 'Body', author: 'Author', attributes: 'Attributes' };
const CONVERSATION_CHANGES = { friendly_name: 'FriendlyName' };

const PRE_EVENTS: Record<string, PreEvent> = {
  CreateConversation: { eventType: 'onConversationAdd', resource: 'Conversation', changes: CONVERSATION_CHANGES },
  CreateConversationWithParticipants: { eventType: 'onConversationAdd', resource: 'Conversation', changes: CONVERSATION_CHANGES },
  UpdateConversation: { eventType: 'onConversationUpdate', resource: 'Conversation', changes: CONVERSATION_CHANGES },
  DeleteConversation: { eventType: 'onConversationRemove', resource: 'Conversation', changes: {} },
  CreateConversationMessage: { eventType: 'onMessageAdd', resource: 'ConversationMessage', changes: MESSAGE_CHANGES },
  UpdateConversationMessage: { eventType: 'onMessageUpdate', resource: 'ConversationMessage', changes: MESSAGE_CHANGES },
  DeleteConversationMessage: { eventType: 'onMessageRemove', resource: 'ConversationMessage', changes: {} },
  CreateConversationParticipant: { eventType: 'onParticipantAdd', resource: 'ConversationParticipant', changes: {} },
  UpdateConversationParticipant: { eventType: 'onParticipantUpdate', resource: 'ConversationParticipant', changes: {} },
  DeleteConversationParticipant: { eventType: 'onParticipantRemove', resource: 'ConversationParticipant', changes: {} },
  UpdateUser: { eventType: 'onUserUpdate', resource: 'User', changes: {} },
};

export function preEventFor(route: Route): PreEvent | undefined {
  return PRE_EVENTS[route.verb + route.resource];
}

/** Resolves when the change may go ahead (with `input` changed as the consumer asked); rejects when refused. */
export async function callPreEvent(core: EmulatorCore, pre: PreEvent, ctx: OperationContext, input: Input, sid: string | undefined): Promise<void> {
  const d = core.descriptor(pre.resource);
  // For updates and removes the consumer sees the current row; a missing one answers 404 without asking.
  const current = sid === undefined ? undefined : engine.fetch(ctx, d, sid);
  const result = await core.webhooks.preEvent(
    ctx.account.sid,
    ctx.parents.Service.sid as string,
    pre.eventType,
    pre.resource,
    current,
    input,
    ctx.parents,
    ctx.source,
    ctx.clientIdentity,
  );
  if (!result) return;
  if (result.rejected) {
    throw twilioError('PreWebhookRejected', { eventType: pre.eventType, url: result.url, status: result.status ?? 0 });
  }
  for (const [key, param] of Object.entries(pre.changes)) if (result.changes[key] !== undefined) input[param] = result.changes[key];
}
