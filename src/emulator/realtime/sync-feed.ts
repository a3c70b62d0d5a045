/**
 * Row changes → Sync events on the client views, whoever made them (REST, a client, an inbound SMS, a timer).
 * Fed by the core's after-commit change feed, so a refused write never reaches a client.
 */
import type { ResourceEvent } from '../resources/context.js';
import type { Database, Row } from '../store/database.js';
import { isoSeconds } from '../wire/dates.js';
import type { SyncEventLog, SyncObjectType } from './sync-events.js';
import { COLLECTION_OF, conversationData, reachabilityEnabled, messageData, myConversationData, participantData, TYPE_OF, userInfoItems, viewId, type ViewKind } from './views.js';

/** the host the SDK's item URLs name; it only echoes them back */
const CDS_BASE = 'https://cds.us1.twilio.com';

export interface FeedOptions {
  db: Database;
  log: SyncEventLog;
  /** users whose clients hold a conversation's document: told when it is deleted (its participants are gone by then) */
  usersWatching(conversationSid: string): string[];
}

function userSidOf(db: Database, serviceSid: unknown, identity: unknown): string | undefined {
  if (identity === null || identity === undefined) return undefined;
  return db.get('SELECT sid FROM users WHERE chat_service_sid = ? AND identity = ?', serviceSid as string, identity as string)?.sid as string | undefined;
}

export class SyncFeed {
  constructor(private readonly options: FeedOptions) {}

  private itemEvent(kind: ViewKind, ownerSid: string, change: 'added' | 'updated' | 'removed', key: string, data: Record<string, unknown>, at: number): void {
    const type: SyncObjectType = TYPE_OF[kind];
    const sid = viewId({ kind, ownerSid });
    const url = `${CDS_BASE}/v3/${COLLECTION_OF[type]}/${sid}/Items/${encodeURIComponent(key)}`;
    const dateCreated = isoSeconds(at);
    if (type === 'list') {
      const index = Number(key);
      this.options.log.append(sid, type, `list_item_${change}`, { list_sid: sid, item_index: index, item_data: data, item_url: url, date_created: dateCreated }, key);
    } else {
      this.options.log.append(sid, type, `map_item_${change}`, { map_sid: sid, item_key: key, item_data: data, item_url: url, date_created: dateCreated }, key);
    }
  }

  /** A user's clients came or went: their reachability item changes (when the service has reachability on). */
  reachability(userSid: string, online: boolean): void {
    const user = this.options.db.get('SELECT * FROM users WHERE sid = ?', userSid);
    if (!user || !reachabilityEnabled(this.options.db, user.chat_service_sid)) return;
    this.itemEvent('user-info', userSid, 'updated', 'reachability', { online, notifiable: false }, Date.now());
  }

  private documentEvent(conversation: Row, removed: boolean, at: number): void {
    const sid = viewId({ kind: 'conversation', ownerSid: conversation.sid as string });
    if (removed) {
      this.options.log.append(sid, 'document', 'document_removed', { document_sid: sid, date_created: isoSeconds(at) });
      return;
    }
    this.options.log.append(sid, 'document', 'document_updated', { document_sid: sid, document_data: conversationData(this.options.db, conversation), date_created: isoSeconds(at) });
  }

  accept(event: ResourceEvent): void {
    const { db } = this.options;
    const row = event.row;
    const at = (row.date_updated as number | undefined) ?? Date.now();
    const change = event.type === 'created' ? 'added' : event.type === 'updated' ? 'updated' : 'removed';
    switch (event.resource) {
      case 'ConversationMessage': {
        this.itemEvent('messages', row.conversation_sid as string, change, String(row.message_index), messageData(db, row), at);
        // lastMessage moved: the conversation document changes too
        const conversation = db.get('SELECT * FROM conversations WHERE sid = ?', row.conversation_sid as string);
        if (conversation) this.documentEvent(conversation, false, at);
        return;
      }
      case 'ConversationMessageReceipt': {
        // a receipt moved: the message's aggregate `delivery` changed
        const message = db.get('SELECT * FROM messages WHERE sid = ?', row.message_sid as string);
        if (message) this.itemEvent('messages', message.conversation_sid as string, 'updated', String(message.message_index), messageData(db, message), at);
        return;
      }
      case 'ConversationParticipant': {
        this.itemEvent('roster', row.conversation_sid as string, change, row.sid as string, participantData(db, row), at);
        const userSid = userSidOf(db, row.chat_service_sid, row.identity);
        const conversation = db.get('SELECT * FROM conversations WHERE sid = ?', row.conversation_sid as string);
        if (userSid && conversation) this.itemEvent('my-conversations', userSid, change, row.conversation_sid as string, myConversationData(conversation, row), at);
        return;
      }
      case 'Conversation': {
        if (event.type === 'deleted') {
          for (const userSid of this.options.usersWatching(row.sid as string)) {
            this.itemEvent('my-conversations', userSid, 'removed', row.sid as string, {}, at);
          }
          this.documentEvent(row, true, at);
          return;
        }
        this.documentEvent(row, false, at);
        if (event.type === 'updated') {
          for (const p of db.all('SELECT * FROM participants WHERE conversation_sid = ? AND identity IS NOT NULL', row.sid as string)) {
            const userSid = userSidOf(db, p.chat_service_sid, p.identity);
            if (userSid) this.itemEvent('my-conversations', userSid, 'updated', row.sid as string, myConversationData(row, p), at);
          }
        }
        return;
      }
      case 'User': {
        if (event.type !== 'updated') return;
        for (const [key, data] of userInfoItems(row)) {
          const before = event.previous ? userInfoItems(event.previous).find(([k]) => k === key)?.[1] : undefined;
          if (JSON.stringify(before) !== JSON.stringify(data)) this.itemEvent('user-info', row.sid as string, 'updated', key, data, at);
        }
        return;
      }
      default:
        return;
    }
  }
}
