/**
 * Which requests are the same event (the dedupe key), which events must be handled in order (the partition key),
 * and the IncomingEvent the ingress hands to the store.
 *
 * Dedupe key, first that applies:
 * 1. `I-Twilio-Idempotency-Token`: Twilio sends the same token on every retry of one delivery.
 * 2. `EventSid`, when a payload carries one.
 * 3. Conversations: (EventType, the event's subject SID, the date that marks this event). The subject is the
 *    DeliveryReceiptSid, else MessageSid, else ParticipantSid, else ConversationSid; the date DateRemoved, else
 *    DateUpdated, else DateCreated (an update keeps DateCreated, so it cannot tell two updates apart), else
 *    StateUpdated. The delivery Status and the StateTo are added: two receipts updates in one millisecond stay two.
 * 4. Messaging status callbacks: (MessageSid, MessageStatus, ErrorCode): they carry no timestamp, and each status of
 *    a message is one event (a repeated one is a retry).
 * 5. Messaging inbound: MessageSid.
 * Otherwise: a hash of the params without RetryCount (a retry differs only there).
 * Keys start with the source: the same SID under two sources is two events.
 */
import { createHash } from 'node:crypto';
import type { EventParams, EventSource, IncomingEvent } from '../events.js';
import type { Headers } from './signature.js';

export type IngressSource = Exclude<EventSource, 'router'>;

const SEP = '|';

export function dedupeKeyOf(source: IngressSource, params: EventParams, headers: Headers): string {
  const token = headerValue(headers, 'i-twilio-idempotency-token');
  if (token) return key(source, 'idem', token);
  if (params.EventSid) return key(source, 'event', params.EventSid);
  switch (source) {
    case 'conversations': {
      const subject = params.DeliveryReceiptSid || params.MessageSid || params.ParticipantSid || params.ConversationSid;
      const at = params.DateRemoved || params.DateUpdated || params.DateCreated || params.StateUpdated;
      if (params.EventType && subject && at) {
        return key(source, params.EventType, subject, at, params.Status ?? '', params.StateTo ?? '');
      }
      break;
    }
    case 'messaging-status':
      if (params.MessageSid && params.MessageStatus) return key(source, params.MessageSid, params.MessageStatus, params.ErrorCode ?? '');
      break;
    case 'messaging-inbound':
      if (params.MessageSid) return key(source, params.MessageSid);
      break;
  }
  return key(source, 'content', contentHash(params));
}

/**
 * Events of one partition are applied one at a time, in order: a conversation's events together; without a
 * conversation, an inbound message by its sender (the conversation is found or made from it) and a status callback
 * by its message.
 */
export function partitionKeyOf(source: IngressSource, params: EventParams): string {
  if (params.ConversationSid) return params.ConversationSid;
  if (source === 'messaging-inbound' && params.From) return `address:${params.From}`;
  if (source === 'messaging-status' && params.MessageSid) return `message:${params.MessageSid}`;
  // nothing to order by: one partition per source (rare: every Twilio payload above has one of those)
  return `source:${source}`;
}

export interface EventContext {
  receivedAt: number;
  signature: IncomingEvent['signature'];
  correlationId: string;
}

export function eventTypeOf(source: IngressSource, params: EventParams): string {
  if (source === 'messaging-inbound') return 'inbound';
  if (source === 'messaging-status') return 'status';
  return params.EventType || 'unknown';
}

export function toIncomingEvent(source: IngressSource, params: EventParams, headers: Headers, context: EventContext): IncomingEvent {
  return {
    source,
    eventType: eventTypeOf(source, params),
    dedupeKey: dedupeKeyOf(source, params, headers),
    partitionKey: partitionKeyOf(source, params),
    params,
    receivedAt: context.receivedAt,
    signature: context.signature,
    correlationId: context.correlationId,
  };
}

function key(...parts: string[]): string {
  return parts.join(SEP);
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text ? text : undefined;
}

/** sha256 of the sorted params, RetryCount left out; lengths prefix each part so no two param sets collide. */
function contentHash(params: EventParams): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(params).sort()) {
    if (name === 'RetryCount') continue;
    const value = params[name];
    hash.update(`${name.length}:${name}${value.length}:${value}`);
  }
  return hash.digest('hex');
}
