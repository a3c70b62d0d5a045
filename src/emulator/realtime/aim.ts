/**
 * The Conversations client API ("aim"), tunnelled: `Client/v2/Configuration` and the links it hands out. Writes
 * go through the same resource engine as REST (source SDK), so a client's message is the message REST lists and
 * webhooks report. Paths below /Client/v2 are tce's own: the SDK follows the links of the Configuration answer.
 */
import { TwilioError } from '../wire/errors.js';
import type { Row } from '../store/database.js';
import { segments, UpstreamError, type ClientSession, type UpstreamAnswer, type UpstreamRequest } from './upstream.js';
import { conversationOf, jsonBody, membership, notFound, type AimDeps } from './aim-common.js';
import { clientWrite } from './aim-writes.js';
import { myConversationData, reachabilityEnabled, viewId } from './views.js';

/** seconds a typing indicator lasts (Twilio's default; the notification says one more, for latency) */
const TYPING_TIMEOUT_S = 5;
const MY_CONVERSATIONS_PAGE = 50;

function configuration(deps: AimDeps, request: UpstreamRequest, session: ClientSession): Record<string, unknown> {
  const aim = `https://${request.host}/Client/v2`;
  const media = `${session.httpBase}/mcs/v1/Services/${session.serviceSid}`;
  return {
    options: {
      consumption_report_interval: 'PT5S',
      user_infos_to_subscribe: 100,
      reachability_enabled: reachabilityEnabled(deps.core.db, session.serviceSid),
      http_cache_interval: 'PT5S',
      my_conversations_page_size: MY_CONVERSATIONS_PAGE,
      media_attachments_count_limit: 10,
      media_attachment_size_limit_in_mb: 5,
      media_attachments_total_size_limit_in_mb: 5,
      email_histories_allowed_mime_types: [],
      email_bodies_allowed_mime_types: [],
    },
    sync_objects: {
      my_conversations: viewId({ kind: 'my-conversations', ownerSid: session.userSid }),
      my_user_info: viewId({ kind: 'user-info', ownerSid: session.userSid }),
    },
    links: {
      my_conversations: `${aim}/Me/Conversations`,
      conversations: `${aim}/Conversations`,
      users: `${aim}/Users`,
      current_user: `${aim}/Me`,
      typing: `${aim}/Typing`,
      media_service: `${media}/Media`,
      media_set_service: `${media}/MediaSet`,
      messages_receipts: `${aim}/Conversations/%s/Messages/%s/Receipts`,
    },
    identity: session.identity,
    url: `${aim}/Configuration`,
  };
}

/** messages after the read horizon; null while the participant has none (as the SDK documents) */
function unreadCount(deps: AimDeps, conversationSid: string, participant: Row): number | null {
  const read = participant.last_read_message_index as number | null;
  if (read === null || read === undefined) return null;
  return Number(deps.core.db.get('SELECT count(*) AS n FROM messages WHERE conversation_sid = ? AND message_index > ?', conversationSid, read)?.n ?? 0);
}

function myConversation(deps: AimDeps, conversation: Row, participant: Row): Record<string, unknown> {
  const sid = conversation.sid as string;
  const data = myConversationData(conversation, participant);
  return {
    unread_messages_count: unreadCount(deps, sid, participant),
    conversation_sid: sid,
    status: 'joined',
    sync_objects: { conversation: data.channel, messages: data.messages, participants: data.roster },
    last_read_message_index: participant.last_read_message_index ?? null,
    notification_level: participant.notification_level ?? 'default',
    friendly_name: conversation.friendly_name ?? null,
    unique_name: conversation.unique_name ?? null,
    attributes: conversation.attributes ?? '{}',
    date_created: data.dateCreated,
    date_updated: data.dateUpdated,
    created_by: 'system',
  };
}

function myConversations(deps: AimDeps, session: ClientSession, request: UpstreamRequest): UpstreamAnswer {
  const after = request.params.PageToken ?? '';
  const rows = deps.core.db.all(
    `SELECT p.*, c.sid AS c_sid FROM participants p JOIN conversations c ON c.sid = p.conversation_sid
     WHERE p.chat_service_sid = ? AND p.identity = ? AND c.sid > ? ORDER BY c.sid LIMIT ?`,
    session.serviceSid, session.identity, after, MY_CONVERSATIONS_PAGE + 1,
  );
  const page = rows.slice(0, MY_CONVERSATIONS_PAGE);
  const conversations = page.map((p) => myConversation(deps, deps.core.db.get('SELECT * FROM conversations WHERE sid = ?', p.c_sid as string) as Row, p));
  const next = rows.length > MY_CONVERSATIONS_PAGE ? (page[page.length - 1]?.c_sid as string) : null;
  return { status: 200, body: { conversations, meta: { next_token: next } } };
}

function conversationSummary(deps: AimDeps, session: ClientSession, row: Row): UpstreamAnswer {
  membership(deps, session, row);
  const sid = row.sid as string;
  const count = (sql: string) => Number(deps.core.db.get(sql, sid)?.n ?? 0);
  return {
    status: 200,
    body: {
      conversation_sid: sid,
      friendly_name: row.friendly_name ?? null,
      unique_name: row.unique_name ?? null,
      attributes: row.attributes ?? '{}',
      messages_count: count('SELECT count(*) AS n FROM messages WHERE conversation_sid = ?'),
      participants_count: count('SELECT count(*) AS n FROM participants WHERE conversation_sid = ?'),
      sync_objects: { conversation: viewId({ kind: 'conversation', ownerSid: sid }), messages: viewId({ kind: 'messages', ownerSid: sid }), participants: viewId({ kind: 'roster', ownerSid: sid }) },
    },
  };
}

function typing(deps: AimDeps, session: ClientSession, request: UpstreamRequest): UpstreamAnswer {
  const form = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
  const sid = form.get('ChannelSid') ?? (request.body as Record<string, unknown> | null)?.ChannelSid;
  if (typeof sid !== 'string' || sid === '') throw new UpstreamError(400, 20001, 'ChannelSid is required');
  const conversation = conversationOf(deps, session, sid);
  membership(deps, session, conversation);
  const others = new Set(
    deps.core.db.all('SELECT identity FROM participants WHERE conversation_sid = ? AND identity IS NOT NULL AND identity != ?', conversation.sid as string, session.identity)
      .map((p) => p.identity as string),
  );
  const payload = { channel_sid: conversation.sid, identity: session.identity, typing_timeout: TYPING_TIMEOUT_S + 1 };
  for (const other of deps.sessionsOf(session.serviceSid, others)) other.notify('twilio.ipmsg.typing_indicator', payload);
  return { status: 200, body: { typing_timeout: TYPING_TIMEOUT_S } };
}

const RECEIPTS_PAGE = 50;

/** A message's detailed delivery receipts (one per non-chat participant it went out to), paged by SID. */
function receipts(deps: AimDeps, session: ClientSession, conversation: Row, messageSid: string, request: UpstreamRequest): UpstreamAnswer {
  membership(deps, session, conversation);
  const size = Math.min(Math.max(Number(request.params.PageSize ?? RECEIPTS_PAGE) || RECEIPTS_PAGE, 1), RECEIPTS_PAGE);
  const rows = deps.core.db.all(
    'SELECT * FROM receipts WHERE conversation_sid = ? AND message_sid = ? AND sid > ? ORDER BY sid LIMIT ?',
    conversation.sid as string, messageSid, request.params.PageToken ?? '', size + 1,
  );
  const page = rows.slice(0, size);
  const iso = (ms: unknown) => new Date(ms as number).toISOString();
  return {
    status: 200,
    body: {
      delivery_receipts: page.map((r) => ({
        sid: r.sid,
        message_sid: r.message_sid,
        conversation_sid: r.conversation_sid,
        channel_message_sid: r.channel_message_sid,
        participant_sid: r.participant_sid,
        status: r.status,
        error_code: r.error_code ?? 0,
        date_created: iso(r.date_created),
        date_updated: iso(r.date_updated),
      })),
      meta: { next_token: rows.length > size ? (page[page.length - 1]?.sid as string) : null },
    },
  };
}

function user(deps: AimDeps, session: ClientSession, identity: string): UpstreamAnswer {
  const row = deps.core.db.get('SELECT * FROM users WHERE chat_service_sid = ? AND identity = ?', session.serviceSid, identity);
  if (!row) throw notFound(`User ${identity}`);
  return {
    status: 200,
    body: {
      identity,
      friendly_name: row.friendly_name ?? null,
      attributes: row.attributes ?? '{}',
      sync_objects: { user_info_map: viewId({ kind: 'user-info', ownerSid: row.sid as string }) },
    },
  };
}

export async function handleAim(deps: AimDeps, session: ClientSession, request: UpstreamRequest): Promise<UpstreamAnswer> {
  const all = segments(request.path);
  if (all[0] !== 'Client' || all[1] !== 'v2') throw notFound(request.path);
  const parts = all.slice(2);
  const [first, second, third] = parts;
  const method = request.method.toUpperCase();
  try {
    if (method === 'GET') {
      if (first === 'Configuration' && parts.length === 1) return { status: 200, body: configuration(deps, request, session) };
      if (first === 'Me' && second === 'Conversations' && parts.length === 2) return myConversations(deps, session, request);
      if (first === 'Me' && second === 'Conversations' && third && parts.length === 3) {
        const conversation = conversationOf(deps, session, third);
        return { status: 200, body: myConversation(deps, conversation, membership(deps, session, conversation)) };
      }
      if (first === 'Conversations' && second && parts.length === 2) return conversationSummary(deps, session, conversationOf(deps, session, second));
      if (first === 'Users' && second && parts.length === 2) return user(deps, session, second);
      // tce has no Content API: no templates (getContentTemplates resolves to [])
      if (first === 'ContentTemplates' && parts.length === 1) return { status: 200, body: { templates: [], meta: { next_token: null } } };
      if (first === 'Conversations' && second && third === 'Messages' && parts[3] && parts[4] === 'Receipts' && parts.length === 5) {
        return receipts(deps, session, conversationOf(deps, session, second), parts[3], request);
      }
      if (first === 'Me' && parts.length === 1) return user(deps, session, session.identity);
    }
    if (first === 'Typing' && method === 'POST' && parts.length === 1) return typing(deps, session, request);
    const written = await clientWrite(deps, session, method, parts, jsonBody(request), `https://${request.host}/Client/v2`, (c, p) => unreadCount(deps, c, p));
    if (written) return written;
  } catch (error) {
    if (error instanceof TwilioError) throw new UpstreamError(error.status, error.code, error.message);
    throw error;
  }
  throw new UpstreamError(404, 20404, `tce does not serve ${method} ${request.path} of the client API yet`);
}
