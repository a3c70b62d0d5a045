/**
 * ParticipantConversations: every conversation a chat identity or an SMS/WhatsApp address takes part in,
 * across the service. A view over participants ⋈ conversations, paged by the participant's position.
 */
import type { Row, SqlValue } from '../store/database.js';
import { readPage } from '../store/paging.js';
import { isoSeconds } from '../wire/dates.js';
import { twilioError } from '../wire/errors.js';
import { list as listMeta } from './list-answer.js';
import { pageTokens, resolveToken } from './engine.js';
import type { Call, Answer } from './operation.js';
import { messagingBinding, ParticipantResource } from './participants/index.js';
import { ConversationResource, timersView } from './conversations/index.js';

const COLUMNS = `p.sid AS participant_sid, p.identity, p.address, p.proxy_address, p.projected_address, p.binding_type,
  c.sid AS conversation_sid, c.chat_service_sid, c.account_sid, c.unique_name, c.friendly_name, c.attributes, c.state,
  c.date_created, c.date_updated, c.date_inactive, c.date_closed, c.messaging_service_sid, u.sid AS user_sid`;

export function listParticipantConversations(call: Call): Answer {
  const { ctx, input } = call;
  ConversationResource.hooks?.beforeRead?.(ctx);
  const where = ['p.account_sid = ?', 'p.chat_service_sid = ?'];
  const args: SqlValue[] = [ctx.account.sid, ctx.parents.Service.sid];
  if (input.Identity !== undefined) {
    where.push('p.identity = ?');
    args.push(String(input.Identity));
  } else if (input.Address !== undefined) {
    where.push('p.address = ?');
    args.push(String(input.Address));
  } else {
    throw twilioError('InvalidParameter', { message: 'Either Identity or Address must be specified' });
  }
  const { token, seq } = resolveToken(ctx, ParticipantResource, input.PageToken as string | undefined);
  const page = readPage(
    ctx.db,
    {
      from: `participants p JOIN conversations c ON c.sid = p.conversation_sid
        LEFT JOIN users u ON u.chat_service_sid = p.chat_service_sid AND u.identity = p.identity`,
      seqColumn: 'p.seq',
      anchorTable: 'participants',
      select: COLUMNS,
      where,
      args,
      order: 'asc',
      pageSize: call.pageSize,
      token,
      page: input.Page as number | undefined,
    },
    seq,
  );
  const tokens = pageTokens(page, 'participant_sid');
  return listMeta(call, tokens, page.rows.map((row) => call.project(participantConversation(call, row))));
}

function participantConversation(call: Call, row: Row): Record<string, unknown> {
  const conversationUrl = call.ctx.urlOf('Conversation', { sid: row.conversation_sid, chat_service_sid: row.chat_service_sid });
  const timers = timersView(row);
  return {
    account_sid: row.account_sid,
    chat_service_sid: row.chat_service_sid,
    participant_sid: row.participant_sid,
    participant_user_sid: row.user_sid,
    participant_identity: row.identity,
    participant_messaging_binding: messagingBinding(row),
    conversation_sid: row.conversation_sid,
    conversation_unique_name: row.unique_name,
    conversation_friendly_name: row.friendly_name,
    conversation_attributes: row.attributes,
    conversation_date_created: isoSeconds(row.date_created as number),
    conversation_date_updated: isoSeconds(row.date_updated as number),
    conversation_created_by: 'system',
    conversation_state: row.state,
    conversation_timers: timers,
    links: {
      participant: `${conversationUrl}/Participants/${row.participant_sid as string}`,
      conversation: conversationUrl,
    },
  };
}
