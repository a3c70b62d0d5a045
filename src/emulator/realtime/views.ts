/**
 * The Sync (CDS) objects the Conversations SDK reads, derived from the same rows REST serves, in the SDK's
 * internal camelCase formats (conversation.ts, message.ts, participant.ts, user.ts of @twilio/conversations):
 *   {CH}.channel   document  the conversation
 *   {CH}.messages  list      its messages, by index
 *   {CH}.roster    map       its participants, by participant SID
 *   {US}.channels  map       the user's conversations, by conversation SID ("my conversations")
 *   {US}.info      map       the user's friendlyName, attributes (and reachability)
 * Nothing is stored twice: a view is computed when read, and sync-feed.ts turns row changes into its events.
 */
import type { Database, Row } from '../store/database.js';
import { isoSeconds } from '../wire/dates.js';
import type { OperationContext } from '../resources/context.js';
import { deliverySummary } from '../resources/messages/index.js';
import type { SyncObjectType } from './sync-events.js';

export type ViewKind = 'conversation' | 'messages' | 'roster' | 'my-conversations' | 'user-info';

export interface ViewRef {
  kind: ViewKind;
  /** CH… for the conversation views, US… for the user views */
  ownerSid: string;
}

const SUFFIX: Record<ViewKind, string> = {
  conversation: 'channel',
  messages: 'messages',
  roster: 'roster',
  'my-conversations': 'channels',
  'user-info': 'info',
};
const KIND_OF_SUFFIX = new Map(Object.entries(SUFFIX).map(([kind, suffix]) => [suffix, kind as ViewKind]));
export const TYPE_OF: Record<ViewKind, SyncObjectType> = {
  conversation: 'document',
  messages: 'list',
  roster: 'map',
  'my-conversations': 'map',
  'user-info': 'map',
};
/** the /v3 collection each type lives in */
export const COLLECTION_OF: Record<SyncObjectType, string> = { document: 'Documents', list: 'Lists', map: 'Maps' };

export function viewId(ref: ViewRef): string {
  return `${ref.ownerSid}.${SUFFIX[ref.kind]}`;
}

export function parseViewId(id: string): ViewRef | undefined {
  const match = /^((?:CH|US)[0-9a-f]{32})\.([a-z]+)$/.exec(id);
  if (!match) return undefined;
  const kind = KIND_OF_SUFFIX.get(match[2] as string);
  if (!kind) return undefined;
  const owner = match[1] as string;
  if (owner.startsWith('CH') !== (kind === 'conversation' || kind === 'messages' || kind === 'roster')) return undefined;
  return { kind, ownerSid: owner };
}

const iso = (ms: unknown) => (typeof ms === 'number' ? isoSeconds(ms) : null);

function jsonObject(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The conversation document's data: what Conversation._update reads. */
export function conversationData(db: Database, conversation: Row): Record<string, unknown> {
  const sid = conversation.sid as string;
  const last = db.get('SELECT message_index, date_created FROM messages WHERE conversation_sid = ? ORDER BY message_index DESC LIMIT 1', sid);
  return {
    friendlyName: conversation.friendly_name ?? null,
    uniqueName: conversation.unique_name ?? null,
    attributes: conversation.attributes ?? '{}',
    createdBy: 'system',
    dateCreated: iso(conversation.date_created),
    dateUpdated: iso(conversation.date_updated),
    ...(last ? { lastMessage: { index: last.message_index, timestamp: iso(last.date_created) } } : {}),
    messages: viewId({ kind: 'messages', ownerSid: sid }),
    roster: viewId({ kind: 'roster', ownerSid: sid }),
    state: { current: conversation.state, dateUpdated: iso(conversation.date_updated) },
    bindings: jsonObject(conversation.bindings),
  };
}

/** A message list item's data (message.ts reads `text`, `timestamp`, `memberSid`, `medias`, `delivery`). */
export function messageData(db: Database, message: Row): Record<string, unknown> {
  // the same aggregate REST's `delivery` shows (it reads only the store)
  const delivery = message.receipts_total ? deliverySummary({ db } as unknown as OperationContext, message) : null;
  const media = message.media ? (JSON.parse(message.media as string) as Record<string, unknown>[]) : null;
  return {
    sid: message.sid,
    author: message.author,
    text: message.body,
    attributes: message.attributes ?? '{}',
    timestamp: iso(message.date_created),
    dateUpdated: iso(message.date_updated),
    type: media?.length ? 'media' : 'text',
    memberSid: message.participant_sid ?? null,
    subject: message.subject ?? null,
    contentSid: message.content_sid ?? null,
    medias: media?.map((m) => ({ sid: m.sid, size: m.size, contentType: m.content_type, filename: m.filename, category: m.category ?? 'media' })) ?? null,
    ...(delivery ? { delivery } : {}),
  };
}

/** A roster item's data (participant.ts). */
export function participantData(db: Database, participant: Row): Record<string, unknown> {
  const chat = participant.identity !== null;
  const user = chat
    ? db.get('SELECT sid FROM users WHERE chat_service_sid = ? AND identity = ?', participant.chat_service_sid as string, participant.identity as string)
    : undefined;
  const type = chat ? 'chat' : (participant.binding_type as string | null) ?? 'sms';
  return {
    identity: participant.identity ?? null,
    type,
    attributes: participant.attributes ?? '{}',
    dateCreated: iso(participant.date_created),
    dateUpdated: iso(participant.date_updated),
    lastConsumedMessageIndex: participant.last_read_message_index ?? null,
    lastConsumptionTimestamp: participant.last_read_timestamp ?? null,
    roleSid: participant.role_sid ?? null,
    ...(user ? { userInfo: viewId({ kind: 'user-info', ownerSid: user.sid as string }) } : {}),
    bindings: chat ? {} : { [type]: { address: participant.address, proxy_address: participant.proxy_address } },
  };
}

/** A "my conversations" item's data (data/conversations.ts upserts it as the conversation's descriptor). */
export function myConversationData(conversation: Row, participant: Row): Record<string, unknown> {
  const sid = conversation.sid as string;
  return {
    status: 'joined',
    channel: viewId({ kind: 'conversation', ownerSid: sid }),
    messages: viewId({ kind: 'messages', ownerSid: sid }),
    roster: viewId({ kind: 'roster', ownerSid: sid }),
    lastConsumedMessageIndex: participant.last_read_message_index ?? null,
    notificationLevel: participant.notification_level ?? 'default',
    friendlyName: conversation.friendly_name ?? null,
    uniqueName: conversation.unique_name ?? null,
    attributes: conversation.attributes ?? '{}',
    dateCreated: iso(conversation.date_created),
    dateUpdated: iso(conversation.date_updated),
  };
}

/**
 * The user info map's items: `{ value }` each, as user.ts reads them, and `reachability` when the service has it
 * on (online: a client of the identity is connected; notifiable: tce has no push, so false).
 */
export function userInfoItems(user: Row, online?: boolean): [string, Record<string, unknown>][] {
  const items: [string, Record<string, unknown>][] = [
    ['friendlyName', { value: user.friendly_name ?? null }],
    ['attributes', { value: user.attributes ?? '{}' }],
  ];
  if (online !== undefined) items.push(['reachability', { online, notifiable: false }]);
  return items;
}

/** whether the service of a user has reachability on (Services/{IS}/Configuration ReachabilityEnabled) */
export function reachabilityEnabled(db: Database, serviceSid: unknown): boolean {
  return db.get('SELECT reachability_enabled AS on_ FROM service_configurations WHERE chat_service_sid = ?', serviceSid as string)?.on_ === 1;
}

/** One item of a list or map view, before its Sync metadata is added. */
export interface ViewItem {
  key: string;
  data: Record<string, unknown>;
  dateUpdated: string | null;
}

export interface ItemQuery {
  /** the map key or list index to start from (inclusive) */
  from?: string;
  order: 'asc' | 'desc';
  limit: number;
  /** one key or index only */
  only?: string;
  /** whether a user is online (for the reachability item) */
  online?: (userSid: string) => boolean;
}

/** The items of a list or map view, one page, plus whether more lie beyond it in each direction. */
export function viewItems(db: Database, ref: ViewRef, owner: Row, query: ItemQuery): { items: ViewItem[]; more: boolean; before: boolean } {
  const order = query.order === 'desc' ? 'DESC' : 'ASC';
  const cmp = query.order === 'desc' ? '<=' : '>=';
  const page = <T>(rows: T[]) => ({ rows: rows.slice(0, query.limit), more: rows.length > query.limit });
  switch (ref.kind) {
    case 'messages': {
      const args: (string | number)[] = [owner.sid as string];
      let where = 'conversation_sid = ?';
      if (query.only !== undefined) {
        where += ' AND message_index = ?';
        args.push(Number(query.only));
      } else if (query.from !== undefined) {
        where += ` AND message_index ${cmp} ?`;
        args.push(Number(query.from));
      }
      const { rows, more } = page(db.all(`SELECT * FROM messages WHERE ${where} ORDER BY message_index ${order} LIMIT ?`, ...args, query.limit + 1));
      const before = rows.length > 0 && !!db.get(
        `SELECT 1 FROM messages WHERE conversation_sid = ? AND message_index ${query.order === 'desc' ? '>' : '<'} ? LIMIT 1`,
        owner.sid as string, rows[0]?.message_index as number,
      );
      return { items: rows.map((m) => ({ key: String(m.message_index), data: messageData(db, m), dateUpdated: iso(m.date_updated) })), more, before };
    }
    case 'roster':
    case 'my-conversations': {
      const roster = ref.kind === 'roster';
      const keyColumn = roster ? 'p.sid' : 'p.conversation_sid';
      const args: (string | number)[] = roster ? [owner.sid as string] : [owner.chat_service_sid as string, owner.identity as string];
      let where = roster ? 'p.conversation_sid = ?' : 'p.chat_service_sid = ? AND p.identity = ?';
      if (query.only !== undefined) {
        where += ` AND ${keyColumn} = ?`;
        args.push(query.only);
      } else if (query.from !== undefined) {
        where += ` AND ${keyColumn} ${cmp} ?`;
        args.push(query.from);
      }
      const sql = roster
        ? `SELECT p.* FROM participants p WHERE ${where} ORDER BY ${keyColumn} ${order} LIMIT ?`
        : `SELECT p.*, json_object('sid', c.sid, 'friendly_name', c.friendly_name, 'unique_name', c.unique_name, 'attributes', c.attributes,
             'date_created', c.date_created, 'date_updated', c.date_updated) AS conversation
           FROM participants p JOIN conversations c ON c.sid = p.conversation_sid WHERE ${where} ORDER BY ${keyColumn} ${order} LIMIT ?`;
      const { rows, more } = page(db.all(sql, ...args, query.limit + 1));
      return {
        items: rows.map((p) =>
          roster
            ? { key: p.sid as string, data: participantData(db, p), dateUpdated: iso(p.date_updated) }
            : { key: p.conversation_sid as string, data: myConversationData(JSON.parse(p.conversation as string) as Row, p), dateUpdated: iso(p.date_updated) },
        ),
        more,
        before: query.from !== undefined && rows.length > 0,
      };
    }
    case 'user-info': {
      const online = reachabilityEnabled(db, owner.chat_service_sid) ? (query.online?.(owner.sid as string) ?? false) : undefined;
      const all = userInfoItems(owner, online).filter(([key]) => query.only === undefined || key === query.only);
      return { items: all.map(([key, data]) => ({ key, data, dateUpdated: iso(owner.date_updated) })), more: false, before: false };
    }
    default:
      return { items: [], more: false, before: false };
  }
}
