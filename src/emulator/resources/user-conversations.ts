/**
 * User Conversations: the conversations a User takes part in, seen from the user (a view over its chat
 * participants). Update sets the participant's notification level and read horizon; delete makes the user leave.
 */
import type { Row, SqlValue } from '../store/database.js';
import { readPage } from '../store/paging.js';
import { isoSeconds } from '../wire/dates.js';
import { invalidParameter } from '../wire/errors.js';
import type { OperationContext } from './context.js';
import * as engine from './engine.js';
import { list as listAnswer } from './list-answer.js';
import type { Answer, Call, SpecialOperation } from './operation.js';
import { ParticipantResource } from './participants/index.js';
import { IN_SERVICE, OF_USER } from './scopes.js';
import { timersView } from './conversations/index.js';

const JOIN = 'participants p JOIN conversations c ON c.sid = p.conversation_sid';
const COLUMNS = `p.sid AS participant_sid, p.seq AS participant_seq, p.last_read_message_index, p.notification_level,
  c.sid AS conversation_sid, c.chat_service_sid, c.account_sid, c.unique_name, c.friendly_name, c.attributes, c.state,
  c.date_created, c.date_updated, c.date_inactive, c.date_closed, c.next_message_index`;

function scope(ctx: OperationContext): { where: string[]; args: SqlValue[] } {
  const user = ctx.parents.User;
  return { where: ['p.account_sid = ?', 'p.chat_service_sid = ?', 'p.identity = ?'], args: [ctx.account.sid, user.chat_service_sid, user.identity] };
}

function findOne(call: Call): Row {
  const { ctx } = call;
  ctx.descriptor('Conversation').hooks?.beforeRead?.(ctx);
  const { where, args } = scope(ctx);
  const key = call.path.ConversationSid;
  const row = ctx.db.get(`SELECT ${COLUMNS} FROM ${JOIN} WHERE ${where.join(' AND ')} AND (c.sid = ? OR c.unique_name = ?) LIMIT 1`, ...args, key, key);
  if (!row) return engine.notFound(ctx);
  return row;
}

function userConversation(ctx: OperationContext, row: Row): Record<string, unknown> {
  const user = ctx.parents.User;
  const conversationUrl = ctx.urlOf('Conversation', { sid: row.conversation_sid, chat_service_sid: row.chat_service_sid });
  const lastRead = row.last_read_message_index as number | null;
  let unread: number | null = null;
  if (lastRead !== null) {
    // A conversation's message_index grows with seq, so the unread ones are the rows after the newest one at or
    // below the horizon, found walking back from the newest on the (conversation_sid, seq) index: O(unread), and
    // messages need no index on message_index (one more page written per message create).
    const count = ctx.db.get(
      `SELECT count(*) AS n FROM messages WHERE conversation_sid = ? AND seq > coalesce(
         (SELECT seq FROM messages WHERE conversation_sid = ? AND message_index <= ? ORDER BY seq DESC LIMIT 1), -1)`,
      row.conversation_sid,
      row.conversation_sid,
      lastRead,
    );
    unread = Number(count?.n ?? 0);
  }
  const timers = timersView(row);
  return {
    account_sid: row.account_sid,
    chat_service_sid: row.chat_service_sid,
    conversation_sid: row.conversation_sid,
    unread_messages_count: unread,
    last_read_message_index: lastRead,
    participant_sid: row.participant_sid,
    user_sid: user.sid,
    friendly_name: row.friendly_name,
    conversation_state: row.state,
    timers,
    attributes: row.attributes,
    date_created: isoSeconds(row.date_created as number),
    date_updated: isoSeconds(row.date_updated as number),
    created_by: 'system',
    notification_level: row.notification_level ?? 'default',
    unique_name: row.unique_name,
    url: ctx.urlOf('UserConversation', { user_sid: user.sid, conversation_sid: row.conversation_sid, chat_service_sid: row.chat_service_sid }),
    links: { participant: `${conversationUrl}/Participants/${row.participant_sid as string}`, conversation: conversationUrl },
  };
}

function listUserConversations(call: Call): Answer {
  const { ctx } = call;
  ctx.descriptor('Conversation').hooks?.beforeRead?.(ctx);
  const { where, args } = scope(ctx);
  const { token, seq } = engine.resolveToken(ctx, ParticipantResource, call.input.PageToken as string | undefined);
  const page = readPage(ctx.db, { from: JOIN, seqColumn: 'p.seq', anchorTable: 'participants', select: COLUMNS, where, args, order: 'asc', pageSize: call.pageSize, token, page: call.input.Page as number | undefined }, seq);
  return listAnswer(call, engine.pageTokens(page, 'participant_sid'), page.rows.map((row) => call.project(userConversation(ctx, row))));
}

function fetchUserConversation(call: Call): Answer {
  return { status: 200, body: call.project(userConversation(call.ctx, findOne(call))) };
}

function participantContext(call: Call, row: Row): { ctx: OperationContext; participant: Row } {
  const { ctx } = call;
  const conversation = ctx.db.get('SELECT * FROM conversations WHERE sid = ?', row.conversation_sid) as Row;
  const scoped = { ...ctx, parents: { ...ctx.parents, Conversation: conversation } };
  return { ctx: scoped, participant: ctx.db.get('SELECT * FROM participants WHERE seq = ?', row.participant_seq) as Row };
}

function updateUserConversation(call: Call): Answer {
  const row = findOne(call);
  const { ctx, participant } = participantContext(call, row);
  const input = call.input;
  if (input.LastReadTimestamp !== undefined && Number.isNaN(Date.parse(String(input.LastReadTimestamp)))) {
    throw invalidParameter(`Invalid LastReadTimestamp: ${String(input.LastReadTimestamp)}`);
  }
  engine.update(ctx, ParticipantResource, participant, {
    NotificationLevel: input.NotificationLevel,
    LastReadMessageIndex: input.LastReadMessageIndex,
    LastReadTimestamp: input.LastReadTimestamp,
  });
  return fetchUserConversation(call);
}

function deleteUserConversation(call: Call): Answer {
  const row = findOne(call);
  const { ctx, participant } = participantContext(call, row);
  engine.remove(ctx, ParticipantResource, participant);
  return { status: 204 };
}

const parents = [IN_SERVICE, OF_USER];
export const userConversationOperations: Record<string, SpecialOperation> = {
  ListUserConversation: { handler: listUserConversations, parents, serviceTwin: true },
  FetchUserConversation: { handler: fetchUserConversation, parents, serviceTwin: true },
  UpdateUserConversation: { handler: updateUserConversation, parents, serviceTwin: true },
  DeleteUserConversation: { handler: deleteUserConversation, parents, serviceTwin: true },
};
