/**
 * Conversation Messages (IM). `index` is per conversation, ascending, and never reused after a delete
 * (one past the newest message's, or the floor a delete left on the conversation). A message counts as activity:
 * it wakes an inactive conversation and restarts its timers. `delivery` summarises the message's receipts (null without non-chat recipients).
 * A message that wakes an inactive conversation announces it (onConversationStateUpdated, Reason EVENT).
 * Limitations: MediaSid is accepted by shape and echoed with placeholder metadata (there is no Media service).
 */
import type { Database, Row } from '../../store/database.js';
import { twilioError } from '../../wire/errors.js';
import { jsonTooDeep, jsonTooDeepError } from '../../wire/json-depth.js';
import { assertOpen, ConversationResource, recordActivity } from '../conversations/index.js';
import { updateRow } from '../engine.js';
import { changeEvent, type OperationContext } from '../context.js';
import type { ResourceDescriptor } from '../descriptor.js';
import { IN_CONVERSATION, IN_SERVICE } from '../scopes.js';
import { mediaOfSid, restMedia } from './media.js';

/**
 * The next message index: one past the newest message's (indexes grow with row order, so that is the last row on
 * the (conversation_sid, seq) index), and never below the floor deletes leave on the conversation. No counter
 * is written per message: that was an UPDATE of the conversation row, and its page, on every create.
 */
function nextMessageIndex(ctx: OperationContext, conversation: Row): number {
  const newest = ctx.db.get('SELECT message_index FROM messages WHERE conversation_sid = ? ORDER BY seq DESC LIMIT 1', conversation.sid as string);
  const floor = (conversation.next_message_index as number | null) ?? 0;
  return newest ? Math.max(floor, (newest.message_index as number) + 1) : floor;
}

const CHAT_BODY_LIMIT = 32 * 1024;
const CHANNEL_BODY_LIMIT = 1600;

function bodyLimit(ctx: OperationContext, conversationSid: unknown): number {
  const nonChat = ctx.db.get(
    'SELECT 1 FROM participants WHERE conversation_sid = ? AND address IS NOT NULL LIMIT 1',
    conversationSid as string,
  );
  return nonChat ? CHANNEL_BODY_LIMIT : CHAT_BODY_LIMIT;
}

function checkBody(ctx: OperationContext, body: unknown, conversationSid: unknown): void {
  if (typeof body !== 'string') return;
  const limit = bodyLimit(ctx, conversationSid);
  if (body.length > limit) throw twilioError('MessageBodyTooLong', { length: body.length, limit });
}

/** The participant an author names (a chat identity or a channel address), if any: the message's `participant_sid`. */
export function authorParticipant(db: Database, conversationSid: unknown, author: unknown): string | null {
  if (author === null || author === undefined || author === 'system') return null;
  const row = db.get(
    'SELECT sid FROM participants WHERE conversation_sid = ? AND (identity = ? OR address = ?) LIMIT 1',
    conversationSid as string, author as string, author as string,
  );
  return row ? (row.sid as string) : null;
}

function media(mediaSid: unknown): string | null {
  if (mediaSid === null || mediaSid === undefined) return null;
  const sid = String(mediaSid);
  if (!/^ME[0-9a-fA-F]{32}$/.test(sid)) throw twilioError('InvalidMediaSid', { value: sid });
  return JSON.stringify(mediaOfSid(sid));
}

/**
 * Count a message as the conversation's activity. Waking an inactive conversation is a state change of its own:
 * written with its date, and announced as one (Reason EVENT), under the message's echo rule.
 */
function wake(ctx: OperationContext, conversation: Row, now: number): Row {
  const after = recordActivity(ctx, conversation, now);
  if (after.state === conversation.state) return after;
  const moved = updateRow(ctx.db, ConversationResource, after, { date_updated: now });
  ctx.events.emit({ ...changeEvent(ctx, 'updated', 'Conversation', moved, conversation), reason: 'EVENT' });
  return moved;
}

function checkContentVariables(value: unknown): void {
  if (value === null || value === undefined) return;
  if (jsonTooDeep(String(value))) throw jsonTooDeepError('ContentVariables');
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch {
    throw twilioError('InvalidParameter', { message: 'ContentVariables must be a JSON object' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw twilioError('InvalidParameter', { message: 'ContentVariables must be a JSON object' });
  }
  for (const [key, v] of Object.entries(parsed)) {
    const length = String(v).length;
    if (length > 256) throw twilioError('ContentVariableTooLong', { key, length, limit: 256 });
  }
}

type Status = 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

/** `{total, sent, delivered, read, failed, undelivered}` with all|some|none; read implies delivered implies sent. */
export function deliverySummary(ctx: OperationContext, message: Row): Record<string, unknown> | null {
  const total = message.receipts_total as number | null;
  if (!total) return null;
  const counts: Record<Status, number> = { sent: 0, delivered: 0, read: 0, failed: 0, undelivered: 0 };
  for (const r of ctx.db.all('SELECT status, count(*) AS n FROM receipts WHERE message_sid = ? GROUP BY status', message.sid)) {
    counts[r.status as Status] = Number(r.n);
  }
  const reached = { sent: counts.sent + counts.delivered + counts.read, delivered: counts.delivered + counts.read, read: counts.read };
  const word = (n: number) => (n === 0 ? 'none' : n >= total ? 'all' : 'some');
  return {
    total,
    sent: word(reached.sent),
    delivered: word(reached.delivered),
    read: word(reached.read),
    failed: word(counts.failed),
    undelivered: word(counts.undelivered),
  };
}

export const MessageResource: ResourceDescriptor = {
  name: 'ConversationMessage',
  prefix: 'IM',
  table: 'messages',
  parents: [IN_SERVICE, IN_CONVERSATION],
  columns: [
    { name: 'message_index', type: 'integer' },
    { name: 'author', type: 'text', param: 'Author', initial: 'system', maxLength: 256 },
    { name: 'body', type: 'text', param: 'Body' },
    { name: 'attributes', type: 'text', param: 'Attributes', initial: '{}', json: { maxBytes: 4 * 1024 } },
    { name: 'media', type: 'text' },
    { name: 'participant_sid', type: 'text' },
    { name: 'content_sid', type: 'text', param: 'ContentSid', update: false },
    { name: 'content_variables', type: 'text', param: 'ContentVariables', update: false },
    { name: 'subject', type: 'text', param: 'Subject', maxLength: 256 },
    { name: 'receipts_total', type: 'integer' },
  ],
  links: { delivery_receipts: 'Receipts', channel_metadata: 'ChannelMetadata' },
  hooks: {
    beforeCreate(ctx, values, input) {
      const conversation = ctx.parents.Conversation;
      assertOpen(conversation);
      // an inbound MMS hands its media over as a value; REST names a MediaSid
      values.media ??= media(input.MediaSid);
      if (values.body === null && values.media === null && values.content_sid === null) throw twilioError('MessageBodyMissing');
      checkBody(ctx, values.body, conversation.sid);
      checkContentVariables(values.content_variables);
      values.participant_sid = authorParticipant(ctx.db, conversation.sid, values.author);
      values.message_index = nextMessageIndex(ctx, conversation);
      ctx.parents.Conversation = wake(ctx, conversation, ctx.clock.now());
    },
    afterDelete(ctx, row) {
      // Deleting the newest message must not give its index out again: raise the conversation's floor past it.
      const conversation = ctx.parents.Conversation;
      const floor = (row.message_index as number) + 1;
      if (conversation && floor > ((conversation.next_message_index as number | null) ?? 0)) {
        ctx.parents.Conversation = updateRow(ctx.db, ConversationResource, conversation, { next_message_index: floor });
      }
    },
    beforeUpdate(ctx, current, changes) {
      assertOpen(ctx.parents.Conversation);
      if ('author' in changes) changes.participant_sid = authorParticipant(ctx.db, current.conversation_sid, changes.author);
      checkBody(ctx, changes.body, current.conversation_sid);
    },
    listFilter(_ctx, input) {
      return { where: [], args: [], order: input.Order === 'desc' ? 'desc' : 'asc' };
    },
  },
  representReads: ['message_index', 'media', 'receipts_total'],
  represent(row, ctx, wire) {
    wire.index = row.message_index;
    wire.media = restMedia(row.media);
    wire.delivery = deliverySummary(ctx, row);
  },
};
