/**
 * What a client changes through the client API: messages, conversations, participants, its own user and its view
 * of a conversation (read horizon, notification level). Every write goes through the resource engine, as REST's
 * do, with Source=SDK; the Sync views then see it through the change feed like any other change.
 * Permissions are the house's simple rule (Twilio's roles are not modelled here yet): a client acts in the
 * conversations it is a participant of, edits and deletes its own messages, and edits only its own user.
 */
import { changeEvent } from '../resources/context.js';
import { create, remove, update, updateRow } from '../resources/engine.js';
import type { Input } from '../resources/descriptor.js';
import type { Row } from '../store/database.js';
import { clientContext, conversationOf, forbidden, membership, notFound, type AimDeps } from './aim-common.js';
import { UpstreamError, type ClientSession, type UpstreamAnswer } from './upstream.js';
import type { OperationContext } from '../resources/context.js';
import { callPreEvent, preEventFor } from '../http/pre-events.js';
import type { Route } from '../http/routes.js';
import { creatorRole, requireConversationPermission, requireServicePermission } from './permissions.js';
import { viewId } from './views.js';

const iso = (ms: unknown) => new Date(ms as number).toISOString();

/**
 * The pre-event webhook a REST operation of this name fires (onMessageAdd, …), with Source=SDK: the consumer may
 * refuse the change or alter its fields in `input` before anything is stored, as for REST.
 */
async function gate(deps: AimDeps, operation: { verb: 'Create' | 'Update' | 'Delete'; resource: string }, ctx: OperationContext, values: Input, sid?: string): Promise<void> {
  const pre = preEventFor(operation as Route);
  if (pre) await callPreEvent(deps.core, pre, ctx, values, sid);
}

function userOf(deps: AimDeps, session: ClientSession): Row {
  const user = deps.core.db.get('SELECT * FROM users WHERE sid = ?', session.userSid);
  if (!user) throw notFound(`User ${session.identity}`);
  return user;
}

/** the row again after an await (a pre-event): it may have changed or gone meanwhile */
function again(deps: AimDeps, table: string, sid: unknown): Row {
  const row = deps.core.db.get(`SELECT * FROM ${table} WHERE sid = ?`, sid as string);
  if (!row) throw notFound(String(sid));
  return row;
}

/** the body fields a client sends, as the engine's REST parameter names */
function input(body: Record<string, unknown>, names: Record<string, string>): Input {
  const out: Input = {};
  for (const [field, param] of Object.entries(names)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new UpstreamError(400, 20001, `${field} must be a string`);
    out[param] = value;
  }
  return out;
}

function conversationAnswer(session: ClientSession, aim: string, row: Row, status = 200): UpstreamAnswer {
  const sid = row.sid as string;
  const self = `${aim}/Conversations/${sid}`;
  return {
    status,
    body: {
      sid,
      url: self,
      links: { messages: `${self}/Messages`, participants: `${self}/Participants` },
      friendly_name: row.friendly_name ?? null,
      unique_name: row.unique_name ?? null,
      attributes: row.attributes ?? '{}',
      date_created: iso(row.date_created),
      created_by: session.identity,
      sync_objects: {
        conversation: viewId({ kind: 'conversation', ownerSid: sid }),
        messages: viewId({ kind: 'messages', ownerSid: sid }),
        participants: viewId({ kind: 'roster', ownerSid: sid }),
      },
    },
  };
}

function messageAnswer(row: Row, status = 200): UpstreamAnswer {
  return {
    status,
    body: {
      sid: row.sid,
      conversation_sid: row.conversation_sid,
      index: row.message_index,
      author: row.author,
      body: row.body,
      attributes: row.attributes,
      participant_sid: row.participant_sid,
      date_created: iso(row.date_created),
      date_updated: iso(row.date_updated),
    },
  };
}

function participantAnswer(row: Row, status = 200): UpstreamAnswer {
  return { status, body: { sid: row.sid, conversation_sid: row.conversation_sid, identity: row.identity, attributes: row.attributes, date_created: iso(row.date_created) } };
}

async function sendMessage(deps: AimDeps, session: ClientSession, conversation: Row, body: Record<string, unknown>): Promise<UpstreamAnswer> {
  const me = membership(deps, session, conversation);
  const withMedia = Array.isArray(body.media_sids) && body.media_sids.length > 0;
  requireConversationPermission(deps.core.db, me, [withMedia ? 'sendMediaMessage' : 'sendMessage'], 'send a message');
  const ctx = clientContext(deps, session, conversation);
  const values = input(body, { attributes: 'Attributes', subject: 'Subject', content_sid: 'ContentSid', content_variables: 'ContentVariables' });
  if (typeof body.body === 'string' && body.body !== '') values.Body = body.body;
  const mediaSids = Array.isArray(body.media_sids) ? (body.media_sids as unknown[]) : [];
  if (mediaSids.length > 10) throw new UpstreamError(400, 20001, 'at most 10 media per message (Configuration media_attachments_count_limit)');
  // the uploaded media's own metadata goes into the message (REST's MediaSid would store a placeholder)
  const media = mediaSids.map((sid) => {
    const stored = typeof sid === 'string' ? deps.media.get(sid) : undefined;
    if (!stored || stored.serviceSid !== session.serviceSid) throw new UpstreamError(400, 20001, `media ${String(sid)} was not uploaded to this service (or is no longer kept)`);
    return { sid: stored.sid, size: stored.bytes.length, content_type: stored.contentType, filename: stored.filename, category: stored.category };
  });
  values.Author = session.identity;
  if (media.length) values.MediaSid = media[0]?.sid;
  await gate(deps, { verb: 'Create', resource: 'ConversationMessage' }, ctx, values);
  delete values.MediaSid;
  ctx.parents.Conversation = again(deps, 'conversations', conversation.sid);
  const d = deps.core.descriptor('ConversationMessage');
  const row = deps.core.db.transaction(() => create(ctx, d, values, media.length ? { media: JSON.stringify(media) } : {}));
  return messageAnswer(row, 201);
}

/** A message of the conversation this client may change: its own with the *Own* permission, any with *Any*. */
function changeableMessage(deps: AimDeps, session: ClientSession, conversation: Row, sid: string, change: 'edit' | 'editAttributes' | 'delete'): Row {
  const me = membership(deps, session, conversation);
  const row = deps.core.db.get('SELECT * FROM messages WHERE conversation_sid = ? AND sid = ?', conversation.sid as string, sid);
  if (!row) throw notFound(`Message ${sid}`);
  const own = row.author === session.identity;
  const permission = { edit: ['editOwnMessage', 'editAnyMessage'], editAttributes: ['editOwnMessageAttributes', 'editAnyMessageAttributes'], delete: ['deleteOwnMessage', 'deleteAnyMessage'] }[change];
  requireConversationPermission(deps.core.db, me, own ? permission : [permission[1] as string], `${change} message ${sid} by ${String(row.author)}`);
  return row;
}

function participantOf(deps: AimDeps, conversation: Row, key: string): Row {
  const row = deps.core.db.get('SELECT * FROM participants WHERE conversation_sid = ? AND (sid = ? OR identity = ?)', conversation.sid as string, key, key);
  if (!row) throw notFound(`Participant ${key}`);
  return row;
}

function updateMyConversation(deps: AimDeps, session: ClientSession, conversation: Row, body: Record<string, unknown>, unread: (c: string, p: Row) => number | null): UpstreamAnswer {
  const participant = membership(deps, session, conversation);
  const ctx = clientContext(deps, session, conversation);
  const d = deps.core.descriptor('ConversationParticipant');
  const level = body.notification_level;
  if (level !== undefined) requireConversationPermission(deps.core.db, participant, ['editNotificationLevel'], 'change its notification level');
  if (level !== undefined && level !== 'default' && level !== 'muted') throw new UpstreamError(400, 20001, `notification_level must be default or muted, got ${String(level)}`);
  const index = body.last_read_message_index;
  if (index !== undefined && index !== null && (typeof index !== 'number' || !Number.isInteger(index) || index < 0)) {
    throw new UpstreamError(400, 20001, 'last_read_message_index must be a whole number >= 0 or null');
  }
  const updated = deps.core.db.transaction(() => {
    const changes: Input = {};
    if (typeof index === 'number') Object.assign(changes, { LastReadMessageIndex: String(index), LastReadTimestamp: new Date(ctx.clock.now()).toISOString() });
    if (typeof level === 'string') changes.NotificationLevel = level;
    let row = Object.keys(changes).length ? update(ctx, d, participant, changes) : participant;
    if (index === null) {
      // "all unread" is no horizon at all, which REST cannot write
      const before = row;
      row = updateRow(ctx.db, d, row, { last_read_message_index: null, last_read_timestamp: null, date_updated: ctx.clock.now() });
      ctx.events.emit(changeEvent(ctx, 'updated', d.name, row, before));
    }
    return row;
  });
  return { status: 200, body: { unread_messages_count: unread(conversation.sid as string, updated), notification_level: updated.notification_level } };
}

/**
 * A write of the client API, or undefined when (method, path) is not one. `parts` are the path segments after
 * /Client/v2; `aim` is the API's base URL as the client reached it.
 */
export async function clientWrite(
  deps: AimDeps,
  session: ClientSession,
  method: string,
  parts: string[],
  body: Record<string, unknown>,
  aim: string,
  unread: (conversationSid: string, participant: Row) => number | null,
): Promise<UpstreamAnswer | undefined> {
  const [first, second, third, fourth] = parts;
  const run = <T>(work: () => T) => deps.core.db.transaction(work);
  if (first === 'Me' && second === 'Conversations' && third && parts.length === 3 && method === 'POST') {
    return updateMyConversation(deps, session, conversationOf(deps, session, third), body, unread);
  }
  if (first === 'Users' && second && parts.length === 2 && method === 'POST') {
    if (second !== session.identity) throw forbidden(`tce lets a client edit only its own user (${session.identity})`);
    const user = userOf(deps, session);
    requireServicePermission(deps.core.db, user, ['editOwnUserInfo', 'editAnyUserInfo'], 'edit its user');
    const ctx = clientContext(deps, session);
    const values = input(body, { friendly_name: 'FriendlyName', attributes: 'Attributes' });
    await gate(deps, { verb: 'Update', resource: 'User' }, ctx, values, user.sid as string);
    const row = run(() => update(ctx, deps.core.descriptor('User'), again(deps, 'users', user.sid), values));
    return { status: 200, body: { identity: row.identity, friendly_name: row.friendly_name, attributes: row.attributes } };
  }
  if (first !== 'Conversations') return undefined;
  if (!second) {
    if (method !== 'POST') return undefined;
    requireServicePermission(deps.core.db, userOf(deps, session), ['createConversation'], 'create a conversation');
    const ctx = clientContext(deps, session);
    const values = input(body, { friendly_name: 'FriendlyName', unique_name: 'UniqueName', attributes: 'Attributes' });
    await gate(deps, { verb: 'Create', resource: 'Conversation' }, ctx, values);
    const row = run(() => create(ctx, deps.core.descriptor('Conversation'), values));
    deps.creators.remember(row.sid as string, session.identity);
    return conversationAnswer(session, aim, row, 201);
  }
  const conversation = conversationOf(deps, session, second);
  const ctx = () => clientContext(deps, session, conversation);
  if (parts.length === 2) {
    const me = membership(deps, session, conversation);
    const d = deps.core.descriptor('Conversation');
    const c = ctx();
    if (method === 'POST') {
      const values = input(body, { friendly_name: 'FriendlyName', unique_name: 'UniqueName', attributes: 'Attributes' });
      if (values.FriendlyName !== undefined || values.UniqueName !== undefined) requireConversationPermission(deps.core.db, me, ['editConversationName'], 'rename the conversation');
      if (values.Attributes !== undefined) requireConversationPermission(deps.core.db, me, ['editConversationAttributes'], "edit the conversation's attributes");
      await gate(deps, { verb: 'Update', resource: 'Conversation' }, c, values, conversation.sid as string);
      return conversationAnswer(session, aim, run(() => update(c, d, again(deps, 'conversations', conversation.sid), values)));
    }
    if (method === 'DELETE') {
      try {
        requireConversationPermission(deps.core.db, me, ['deleteConversation'], 'delete the conversation');
      } catch {
        requireServicePermission(deps.core.db, userOf(deps, session), ['destroyConversation'], 'delete the conversation');
      }
      await gate(deps, { verb: 'Delete', resource: 'Conversation' }, c, {}, conversation.sid as string);
      run(() => remove(c, d, again(deps, 'conversations', conversation.sid)));
      return { status: 204 };
    }
    return undefined;
  }
  if (third === 'Messages' && fourth && parts.length === 4) {
    const values = input(body, { body: 'Body', attributes: 'Attributes' });
    // each kind of change asks its own permission (a body edit, an attributes edit, a delete)
    const changes: ('edit' | 'editAttributes' | 'delete')[] = method === 'DELETE' ? ['delete'] : [];
    if (method !== 'DELETE' && values.Attributes !== undefined) changes.push('editAttributes');
    if (method !== 'DELETE' && (values.Body !== undefined || changes.length === 0)) changes.push('edit');
    const message = changes.map((change) => changeableMessage(deps, session, conversation, fourth, change))[0] as Row;
    const d = deps.core.descriptor('ConversationMessage');
    const c = ctx();
    if (method === 'POST') {
      await gate(deps, { verb: 'Update', resource: 'ConversationMessage' }, c, values, message.sid as string);
      return messageAnswer(run(() => update(c, d, again(deps, 'messages', message.sid), values)));
    }
    if (method === 'DELETE') {
      await gate(deps, { verb: 'Delete', resource: 'ConversationMessage' }, c, {}, message.sid as string);
      run(() => remove(c, d, again(deps, 'messages', message.sid)));
      return { status: 204 };
    }
    return undefined;
  }
  if (third === 'Messages' && parts.length === 3 && method === 'POST') return sendMessage(deps, session, conversation, body);
  if (third === 'Participants') {
    const d = deps.core.descriptor('ConversationParticipant');
    if (parts.length === 3 && method === 'POST') {
      const identity = body.identity;
      if (typeof identity !== 'string' || identity === '') throw new UpstreamError(400, 20001, 'identity is required (tce adds chat participants only from a client, for now)');
      // joining yourself is a service permission; adding someone else a permission in the conversation
      if (identity === session.identity) requireServicePermission(deps.core.db, userOf(deps, session), ['joinConversation'], 'join the conversation');
      else requireConversationPermission(deps.core.db, membership(deps, session, conversation), ['addParticipant'], `add ${identity}`);
      const c = ctx();
      const values: Input = { Identity: identity, ...input(body, { attributes: 'Attributes' }) };
      // the conversation's creator joins it with the creator role (Configuration DefaultConversationCreatorRoleSid)
      const creator = identity === session.identity && deps.creators.creatorOf(conversation.sid as string) === identity ? creatorRole(deps.core.db, session.serviceSid) : undefined;
      if (creator) values.RoleSid = creator;
      await gate(deps, { verb: 'Create', resource: 'ConversationParticipant' }, c, values);
      c.parents.Conversation = again(deps, 'conversations', conversation.sid);
      return participantAnswer(run(() => create(c, d, values)), 201);
    }
    if (parts.length === 4 && fourth) {
      const me = membership(deps, session, conversation);
      const participant = participantOf(deps, conversation, fourth);
      const self = participant.sid === me.sid;
      if (method === 'POST') requireConversationPermission(deps.core.db, me, self ? ['editOwnParticipantAttributes', 'editAnyParticipantAttributes'] : ['editAnyParticipantAttributes'], "edit a participant's attributes");
      if (method === 'DELETE') requireConversationPermission(deps.core.db, me, self ? ['leaveConversation'] : ['removeParticipant'], self ? 'leave the conversation' : `remove ${String(participant.identity)}`);
      const c = ctx();
      if (method === 'POST') {
        const values = input(body, { attributes: 'Attributes' });
        await gate(deps, { verb: 'Update', resource: 'ConversationParticipant' }, c, values, participant.sid as string);
        return participantAnswer(run(() => update(c, d, again(deps, 'participants', participant.sid), values)));
      }
      if (method === 'DELETE') {
        await gate(deps, { verb: 'Delete', resource: 'ConversationParticipant' }, c, {}, participant.sid as string);
        run(() => remove(c, d, again(deps, 'participants', participant.sid)));
        return { status: 204 };
      }
    }
  }
  return undefined;
}
