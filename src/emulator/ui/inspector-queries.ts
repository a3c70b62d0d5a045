/**
 * The inspector's read model: the queries behind `/_emulator/ui/api/*`. Read-only, every list bounded by a LIMIT
 * and paged by keyset (`seq`), so a page costs the same with 10 or 10 000 conversations.
 */
import type { EmulatorCore } from '../core.js';
import type { Row, SqlValue } from '../store/database.js';
import { Conditions } from '../store/conditions.js';
import type { DeliveryView } from '../webhooks/service.js';
import type {
  ConversationDetail,
  ConversationPage,
  ConversationSummary,
  DeliveryTimeline,
  Delivery,
  MessagePage,
  Participant,
  PhoneList,
  Receipt,
  Scopes,
} from './inspector-types.js';
import { formEncode } from '../webhooks/signing.js';
import { invalidParameter, twilioError } from '../wire/errors.js';

export const MAX_PAGE = 200;
const STATES = ['active', 'inactive', 'closed'];
/** the deliveries a conversation's timeline shows: the newest, in order (what a debugging session looks for) */
const TIMELINE_LIMIT = 500;
/** phones listed, and what each shows */
const PHONES_LIMIT = 100;
const PHONE_MESSAGES = 50;
/** the channel messages the phones view reads (the newest), and the participant bindings */
const RECENT_CHANNEL_MESSAGES = 5000;
const MAX_BINDINGS = 10_000;

const iso = (ms: SqlValue | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
const str = (v: SqlValue | undefined) => (v === null || v === undefined ? null : String(v));

function pageSize(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw invalidParameter(`limit must be an integer from 1 to ${MAX_PAGE}`);
  return n;
}

function cursor(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw invalidParameter(`${name} must be a cursor from a previous page`);
  return n;
}

/** `LIKE` with the user's text taken literally */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface ConversationSearch {
  q?: string;
  state?: string;
  accountSid?: string;
  serviceSid?: string;
  /** keyset cursor: the `seq` of the last row of the previous page */
  after?: string;
  limit?: string;
}

export function conversationSummary(r: Row): ConversationSummary {
  return {
    sid: r.sid as string,
    accountSid: r.account_sid as string,
    chatServiceSid: r.chat_service_sid as string,
    uniqueName: str(r.unique_name),
    friendlyName: str(r.friendly_name),
    state: r.state as string,
    dateCreated: iso(r.date_created),
    dateUpdated: iso(r.date_updated ?? r.date_created),
  };
}

export class InspectorQueries {
  constructor(private readonly core: EmulatorCore) {}

  private get db() {
    return this.core.db;
  }

  /** Accounts and their services, for the filters. */
  scopes(): Scopes {
    const services = this.db.all('SELECT sid, account_sid, friendly_name FROM services ORDER BY seq LIMIT 1000');
    return {
      accounts: this.core.accounts.list().map((a) => ({ accountSid: a.sid, friendlyName: a.friendlyName })),
      services: services.map((s) => ({ sid: s.sid as string, accountSid: s.account_sid as string, friendlyName: str(s.friendly_name) })),
    };
  }

  /**
   * Newest first. `q` matches a SID exactly, a UniqueName by prefix, a FriendlyName anywhere. The walk is by the
   * primary key (or the (service, state, seq) index), stopping at the page's LIMIT.
   */
  conversations(search: ConversationSearch): ConversationPage {
    const limit = pageSize(search.limit, 50);
    const after = cursor(search.after, 'after');
    if (search.state && !STATES.includes(search.state)) throw invalidParameter(`state must be one of ${STATES.join(', ')}`);
    const conditions = new Conditions()
      .equals('state', search.state)
      .equals('chat_service_sid', search.serviceSid)
      .equals('account_sid', search.accountSid);
    const q = search.q?.trim();
    if (q) {
      if (q.length > 256) throw invalidParameter('q must be at most 256 characters');
      conditions.add("(sid = ? OR unique_name LIKE ? ESCAPE '\\' OR friendly_name LIKE ? ESCAPE '\\')", q, `${likeEscape(q)}%`, `%${likeEscape(q)}%`);
    }
    if (after !== undefined) conditions.add('seq < ?', after);
    const rows = this.db.all(
      `SELECT seq, sid, account_sid, chat_service_sid, unique_name, friendly_name, state, date_created, date_updated FROM conversations
       ${conditions.where()} ORDER BY seq DESC LIMIT ?`,
      ...conditions.args, limit + 1,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return { conversations: page.map(conversationSummary), next: more ? String(page[page.length - 1].seq) : null };
  }

  private conversationRow(sid: string): Row {
    const row = this.db.get('SELECT * FROM conversations WHERE sid = ?', sid);
    if (!row) throw twilioError('NotFound', { path: `/_emulator/ui/api/conversations/${sid}` });
    return row;
  }

  /** A conversation with its participants: binding, channel, opt-out and reachability. */
  conversation(sid: string): ConversationDetail {
    const c = this.conversationRow(sid);
    const participants = this.db.all('SELECT * FROM participants WHERE conversation_sid = ? ORDER BY seq LIMIT 1000', sid).map((p): Participant => {
      const address = str(p.address);
      const proxy = str(p.proxy_address);
      const optedOut = address && proxy ? this.core.channel.optedOut(p.account_sid as string, address, proxy) : false;
      const handset = address ? this.core.channel.handsets.get(address) : null;
      // Reachability as the channel would decide it for the next message: opted out and scripted failures first.
      const reachability = !address
        ? 'chat'
        : optedOut
          ? 'opted out (21610)'
          : handset && handset.outcome !== 'delivered'
            ? `${handset.outcome} (${handset.errorCode ?? ''})`
            : 'reachable';
      return {
        sid: p.sid as string,
        identity: str(p.identity),
        channel: address ? (str(p.binding_type) ?? 'sms') : 'chat',
        address,
        proxyAddress: str(p.proxy_address),
        projectedAddress: str(p.projected_address),
        optedOut,
        reachability,
        handset,
        dateCreated: iso(p.date_created),
      };
    });
    const counts = this.db.get('SELECT count(*) AS n FROM messages WHERE conversation_sid = ?', sid);
    return {
      conversation: { ...conversationSummary(c), attributes: str(c.attributes), messagingServiceSid: str(c.messaging_service_sid) },
      participants,
      messageCount: Number(counts?.n ?? 0),
    };
  }

  /**
   * Messages in order, paged backwards from the newest (`before`: the cursor of the previous page), each with
   * its receipts (per participant: status and error code).
   */
  messages(sid: string, query: { before?: string; limit?: string }): MessagePage {
    this.conversationRow(sid);
    const limit = pageSize(query.limit, 100);
    const before = cursor(query.before, 'before');
    const rows = this.db.all(
      `SELECT seq, sid, message_index, author, body, media, participant_sid, date_created FROM messages
       WHERE conversation_sid = ?${before !== undefined ? ' AND seq < ?' : ''} ORDER BY seq DESC LIMIT ?`,
      ...(before !== undefined ? [sid, before, limit + 1] : [sid, limit + 1]),
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    const receipts = new Map<string, Receipt[]>();
    if (page.length) {
      const marks = page.map(() => '?').join(',');
      for (const r of this.db.all(
        `SELECT message_sid, participant_sid, status, error_code, channel_message_sid FROM receipts WHERE message_sid IN (${marks}) ORDER BY seq`,
        ...page.map((m) => m.sid),
      )) {
        const list = receipts.get(r.message_sid as string) ?? [];
        list.push({
          participantSid: r.participant_sid as string,
          status: r.status as string,
          errorCode: (r.error_code as number | null) ?? null,
          channelMessageSid: str(r.channel_message_sid),
        });
        receipts.set(r.message_sid as string, list);
      }
    }
    return {
      messages: page.map((m) => ({
        sid: m.sid as string,
        index: Number(m.message_index),
        author: str(m.author),
        body: str(m.body),
        hasMedia: m.media !== null,
        participantSid: str(m.participant_sid),
        dateCreated: iso(m.date_created),
        receipts: receipts.get(m.sid as string) ?? [],
      })),
      // older messages: the cursor to pass as `before`
      next: more ? String(page[0].seq) : null,
    };
  }

  /**
   * The conversation's webhook deliveries, each with its attempts, the signed request (for "copy as curl") and
   * the fault rule that acted, read back from what the rule left on the row.
   */
  webhooks(sid: string): DeliveryTimeline {
    this.conversationRow(sid);
    // one more than shown: whether earlier ones are left out, without counting them all
    const newest = this.core.webhooks.journal({ conversationSid: sid, limit: TIMELINE_LIMIT + 1, newest: true });
    const earlierNotShown = newest.length > TIMELINE_LIMIT;
    const views = earlierNotShown ? newest.slice(1) : newest;
    const extra = new Map<number, Row>();
    if (views.length) {
      const ids = views.map((v) => v.id);
      for (const r of this.db.all(
        `SELECT id, hold_group, created_at, next_attempt_at, finished_at FROM webhook_deliveries WHERE id IN (${ids.map(() => '?').join(',')})`,
        ...ids,
      )) extra.set(Number(r.id), r);
    }
    const duplicated = new Set(views.filter((v) => v.duplicateOf !== null).map((v) => v.duplicateOf));
    return {
      earlierNotShown,
      deliveries: views.map((v): Delivery => {
        const row = extra.get(v.id);
        return {
          id: v.id,
          eventType: v.eventType,
          kind: v.kind,
          url: v.url,
          method: v.method,
          state: v.state,
          idempotencyToken: v.idempotencyToken,
          retryCount: v.attempts.length ? v.attempts[v.attempts.length - 1].retryCount : 0,
          attempts: v.attempts,
          duplicateOf: v.duplicateOf,
          fault: faultOf(v, row, duplicated.has(v.id)),
          createdAt: iso(row?.created_at),
          request: requestOf(v),
        };
      }),
    };
  }

  /**
   * The handsets: every address a participant or a recent channel message names, with its script, its opt-outs,
   * the senders it talks to and what it received and sent (newest last), as a phone shows them. Bounded whatever
   * the store holds: the last RECENT_CHANNEL_MESSAGES channel messages (by primary key) and one pass over the
   * participants' bindings, grouped here.
   */
  phones(): PhoneList {
    const recent = this.db.all('SELECT * FROM channel_messages ORDER BY seq DESC LIMIT ?', RECENT_CHANNEL_MESSAGES);
    const bindings = this.db.all('SELECT DISTINCT address, proxy_address FROM participants WHERE address IS NOT NULL LIMIT ?', MAX_BINDINGS);
    const handsetOf = (m: Row) => (m.direction === 'inbound' ? m.from_address : m.to_address) as string;
    // newest first: the order of the cards
    const byAddress = new Map<string, Row[]>();
    for (const m of recent) {
      const list = byAddress.get(handsetOf(m)) ?? [];
      if (list.length < PHONE_MESSAGES) list.push(m);
      byAddress.set(handsetOf(m), list);
    }
    const senders = new Map<string, Set<string>>();
    const senderOf = (a: string) => senders.get(a) ?? senders.set(a, new Set()).get(a)!;
    for (const b of bindings) if (b.proxy_address !== null) senderOf(b.address as string).add(b.proxy_address as string);
    const quiet = bindings.map((b) => b.address as string).filter((a) => !byAddress.has(a)).sort();
    const addresses = [...new Set([...byAddress.keys(), ...quiet])].slice(0, PHONES_LIMIT);
    const optOuts = this.core.channel.optOuts();
    return {
      phones: addresses.map((a) => {
        const messages = (byAddress.get(a) ?? []).slice().reverse();
        for (const m of messages) senderOf(a).add((m.direction === 'inbound' ? m.to_address : m.from_address) as string);
        return {
          address: a,
          channel: a.startsWith('whatsapp:') ? 'whatsapp' : 'sms',
          handset: this.core.channel.handsets.get(a),
          optOuts: optOuts.filter((o) => o.address === a).map((o) => ({ sender: o.sender, since: o.since })),
          senders: [...senderOf(a)],
          messages: messages.map((m) => ({
            sid: m.sid as string,
            direction: m.direction === 'inbound' ? 'sent' : 'received',
            from: m.from_address as string,
            to: m.to_address as string,
            body: str(m.body),
            status: m.status as string,
            errorCode: (m.error_code as number | null) ?? null,
            conversationSid: str(m.conversation_sid),
            date: iso(m.date_created),
          })),
        };
      }),
    };
  }
}

/** Which fault rule acted on a delivery, from what its action left on the row (webhooks/service.ts). */
export function faultOf(v: DeliveryView, row: Row | undefined, hasDuplicates: boolean): string | null {
  if (v.duplicateOf !== null) return `duplicate (copy of #${v.duplicateOf})`;
  if (hasDuplicates) return 'duplicate (original)';
  if (v.state === 'dropped') return 'drop';
  if (v.attempts[0]?.error === 'injected failure') return `fail (${v.attempts[0].status})`;
  if (row && row.hold_group !== null) return 'reorder';
  if (row && typeof row.next_attempt_at === 'number' && typeof row.created_at === 'number' && v.attempts.length <= 1) {
    // a delay rule sets the first attempt's time past the creation time (retries move it too, hence <= 1 attempt)
    const waited = (row.next_attempt_at as number) - (row.created_at as number);
    if (waited > 0) return `delay (${Math.round(waited)} ms)`;
  }
  return null;
}

/** The signed request as it left (headers and body), for display and "copy as curl". */
function requestOf(v: DeliveryView) {
  const url = v.url.split('#')[0];
  if (v.method === 'GET') return { method: 'GET', url: `${url}${url.includes('?') ? '&' : '?'}${formEncode(v.params)}`, headers: v.headers, body: null };
  return { method: 'POST', url, headers: v.headers, body: formEncode(v.params) };
}
