/**
 * The simulated SMS / WhatsApp channel. A message added to a conversation is "sent" to each SMS/WhatsApp
 * participant other than its author: a channel message per handset (the outbox), a Receipt per recipient once
 * it leaves, and the message's `delivery` summary, moving queued → sent → delivered → read (or undelivered /
 * failed with Twilio's error code), each step firing onDeliveryUpdated. Handsets decide the outcome and pace;
 * opt-outs (21610) and the WhatsApp 24-hour window (63016) are enforced when a message leaves. Inbound
 * messages are routed as Twilio routes them. Steps only ever move forward.
 */
import type { Account } from '../accounts.js';
import type { EmulatorCore } from '../core.js';
import type { ChangeSource, OperationContext, ResourceEvent } from '../resources/context.js';
import type { Input } from '../resources/descriptor.js';
import * as engine from '../resources/engine.js';
import { mediaOfUrls } from '../resources/messages/media.js';
import type { Row } from '../store/database.js';
import { Conditions } from '../store/conditions.js';
import { twilioError } from '../wire/errors.js';
import { newSid } from '../wire/sid.js';
import { Handsets, type Handset } from './handsets.js';
import { channelOf, parseInbound, type InboundMessage } from './inbound.js';
import { keyword, REPLIES } from './keywords.js';
import { statusCallbackParams } from '../messaging/status-callback.js';
import { NumberWebhooks } from '../messaging/numbers.js';
import { INBOUND_EVENT_TYPE, inboundWebhookParams } from '../messaging/inbound-webhook.js';

export type ChannelStatus = 'accepted' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered' | 'received';

const RANK: Record<string, number> = { accepted: 0, queued: 0, sending: 0, sent: 1, delivered: 2, read: 3, undelivered: 4, failed: 4, received: 4 };
const FINAL = new Set(['read', 'failed', 'undelivered', 'received']);
const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;
/** for an arrival whose send's request is no longer known (sent before a restart) */
const FALLBACK_BASE_URL = 'http://localhost';

export interface ChannelMessage {
  sid: string;
  direction: string;
  channel: 'sms' | 'whatsapp';
  to: string;
  from: string;
  body: string | null;
  status: string;
  errorCode: number | null;
  conversationSid: string | null;
  messageSid: string | null;
  dateSent: string | null;
}

export interface InboundResult {
  routedTo: 'conversation' | 'autocreated' | 'messaging';
  conversationSid?: string;
  messageSid?: string;
  channelMessageSid: string;
  /** the pre-event onMessageAdd refused it: nothing was added to the conversation */
  refused?: true;
  /** a plain Messaging inbound whose number has an `SmsUrl`: its webhook is queued */
  webhook?: true;
}

type InboundRoute =
  | { kind: 'conversation'; conversation: Row }
  | { kind: 'autocreate'; config: Row; serviceSid: string }
  | { kind: 'messaging' };

/** What a pre-event answer may change in an inbound message (its JSON keys → message parameters), as on REST. */
const PRE_EVENT_CHANGES = { body: 'Body', author: 'Author', attributes: 'Attributes' };

export class ChannelService {
  readonly handsets: Handsets;
  /** numbers' incoming-message webhooks (PUT /_emulator/numbers/{address}) */
  readonly numbers: NumberWebhooks;
  /** the base URL of the request that sent a message, for the inbound it makes at an owned number (URLs in webhooks) */
  private readonly sendBaseUrls = new Map<string, string>();
  private interval?: NodeJS.Timeout;
  private unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly core: EmulatorCore) {
    this.handsets = new Handsets(core.db);
    this.numbers = new NumberWebhooks(core.db, core.accounts, core.clock);
  }

  start(): void {
    this.unsubscribe.push(this.core.events.onWrite((event) => this.onWrite(event)));
    this.unsubscribe.push(this.core.clock.onChange(() => this.sweep()));
    // In real time, paced handsets move on their own; a manual clock moves them through onChange above.
    this.interval = setInterval(() => this.sweep(), 250);
    this.interval.unref();
    // Resume what a previous run left in flight.
    setImmediate(() => this.sweep(true));
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.interval) clearInterval(this.interval);
  }

  // ---- outbound ----------------------------------------------------------------------------------------------

  private onWrite(event: ResourceEvent): void {
    if (event.resource !== 'ConversationMessage' || event.type !== 'created') return;
    const message = event.row;
    const db = this.core.db;
    const recipients = db.all(
      'SELECT * FROM participants WHERE conversation_sid = ? AND address IS NOT NULL AND address != ? ORDER BY seq',
      message.conversation_sid, (message.author as string | null) ?? '',
    );
    if (recipients.length === 0) return;
    const conversation = db.get('SELECT messaging_service_sid FROM conversations WHERE sid = ?', message.conversation_sid);
    const now = this.core.clock.now();
    const immediate: string[] = [];
    for (const p of recipients) {
      const channel = (p.binding_type as 'sms' | 'whatsapp') ?? 'sms';
      const handset = this.handsets.get(p.address as string);
      const sid = newSid(message.media ? 'MM' : 'SM', this.core.random);
      db.run(
        `INSERT INTO channel_messages (sid, account_sid, direction, channel, to_address, from_address, messaging_service_sid, body, media,
           content_sid, status, conversation_sid, message_sid, participant_sid, next_step_at, date_created, date_updated)
         VALUES (?, ?, 'outbound-api', ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
        sid, event.accountSid, channel, p.address, p.proxy_address, conversation?.messaging_service_sid ?? null, message.body, message.media,
        message.content_sid, message.conversation_sid, message.sid, p.sid, this.firstStepAt(handset, now), now, now,
      );
      if (handset.progression === 'immediate') immediate.push(sid);
    }
    db.run('UPDATE messages SET receipts_total = ? WHERE sid = ?', recipients.length, message.sid);
    if (immediate.length) db.afterCommit(() => this.runToEnd(immediate));
  }

  /**
   * Send a message through the channel outside a conversation (the Messaging API); returns its row. `accepted`:
   * a Messaging Service sends it, so it starts `accepted` and moves to `queued` with its sender (`from`, stored
   * now, shown from then on) once the answer is out. No status callback for the first status, as at Twilio.
   */
  send(account: Account, input: { to: string; from: string; accepted: boolean; body: string | null; media: string[]; contentSid: string | null; messagingServiceSid: string | null; statusCallback: string | null; baseUrl?: string }): Row {
    const now = this.core.clock.now();
    const channel = channelOf(input.to);
    const handset = this.handsets.get(input.to);
    const sid = newSid(input.media.length ? 'MM' : 'SM', this.core.random);
    this.core.db.transaction(() =>
      this.core.db.run(
        `INSERT INTO channel_messages (sid, account_sid, direction, channel, to_address, from_address, messaging_service_sid, body, media,
           content_sid, status, status_callback, next_step_at, date_created, date_updated)
         VALUES (?, ?, 'outbound-api', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        sid, account.sid, channel, input.to, input.from, input.messagingServiceSid, input.body, input.media.length ? JSON.stringify(input.media) : null,
        input.contentSid, input.accepted ? 'accepted' : 'queued', input.statusCallback, input.accepted ? null : this.firstStepAt(handset, now), now, now,
      ),
    );
    const row = this.row(sid) as Row;
    if (input.baseUrl && channel === 'sms' && this.numbers.owned(input.to)) this.sendBaseUrls.set(sid, input.baseUrl);
    if (input.accepted) this.core.db.afterCommit(() => this.pickSender(sid));
    else if (handset.progression === 'immediate') this.core.db.afterCommit(() => this.runToEnd([sid]));
    return row;
  }

  /** accepted → queued: the Messaging Service's sender goes out with it, whatever the handset's pace. */
  private pickSender(sid: string): void {
    if (this.stopped || !this.step(sid).moved) return;
    const cm = this.row(sid);
    if (cm && this.handsets.get(cm.to_address as string).progression === 'immediate') this.core.db.afterCommit(() => this.runToEnd([sid]));
  }

  private firstStepAt(handset: Handset, now: number): number | null {
    const p = handset.progression;
    return typeof p === 'object' ? now + p.afterSeconds * 1000 : null;
  }

  row(sid: string): Row | undefined {
    return this.core.db.get('SELECT * FROM channel_messages WHERE sid = ?', sid);
  }

  /** Is this handset opted out of that sender (SMS STOP)? */
  optedOut(accountSid: string, address: string, sender: string): boolean {
    return !!this.core.db.get('SELECT 1 FROM opt_outs WHERE account_sid = ? AND address = ? AND sender = ?', accountSid, address, sender);
  }

  /** The status a channel message moves to next, with its error code; undefined when it is final. */
  private next(cm: Row): { status: ChannelStatus; errorCode: number | null } | undefined {
    const handset = this.handsets.get(cm.to_address as string);
    switch (cm.status) {
      case 'accepted':
        return { status: 'queued', errorCode: null };
      case 'queued': {
        if (this.optedOut(cm.account_sid as string, cm.to_address as string, cm.from_address as string)) return { status: 'failed', errorCode: 21610 };
        if (cm.channel === 'whatsapp' && cm.content_sid === null) {
          const session = this.core.db.get(
            'SELECT last_inbound_at FROM channel_sessions WHERE account_sid = ? AND address = ? AND sender = ?',
            cm.account_sid, cm.to_address, cm.from_address,
          );
          if (!session || this.core.clock.now() - (session.last_inbound_at as number) > WHATSAPP_WINDOW_MS) return { status: 'failed', errorCode: 63016 };
        }
        if (handset.outcome === 'failed') return { status: 'failed', errorCode: handset.errorCode };
        return { status: 'sent', errorCode: null };
      }
      case 'sent':
        return handset.outcome === 'undelivered' ? { status: 'undelivered', errorCode: handset.errorCode } : { status: 'delivered', errorCode: null };
      case 'delivered':
        return handset.read && cm.channel === 'whatsapp' ? { status: 'read', errorCode: null } : undefined;
      default:
        return undefined;
    }
  }

  /** Move one channel message one step: whether it moved, and the receipt it changed (conversation messages). */
  step(sid: string): { moved: boolean; receipt?: Row } {
    const cm = this.row(sid);
    if (!cm || FINAL.has(cm.status as string)) return { moved: false };
    const move = this.next(cm);
    if (!move) {
      this.core.db.transaction(() => this.core.db.run('UPDATE channel_messages SET next_step_at = NULL WHERE sid = ?', sid));
      return { moved: false };
    }
    if (RANK[move.status] < RANK[cm.status as string]) return { moved: false };
    return { moved: true, receipt: this.apply(cm, move.status, move.errorCode) };
  }

  private runToEnd(sids: string[]): void {
    for (const sid of sids) for (let i = 0; i < 4 && this.step(sid).moved; i++);
  }

  /** Write a status change (never backwards), its receipt and its callback, in one transaction. */
  private apply(cm: Row, status: ChannelStatus, errorCode: number | null): Row | undefined {
    const now = this.core.clock.now();
    const handset = this.handsets.get(cm.to_address as string);
    const final = FINAL.has(status) || (status === 'delivered' && !(handset.read && cm.channel === 'whatsapp'));
    const pace = handset.progression;
    // A paced step counts from when it was due, not from when the sweep saw it: a long clock jump passes several.
    const due = typeof cm.next_step_at === 'number' && cm.next_step_at <= now ? cm.next_step_at : now;
    const nextAt = final ? null : typeof pace === 'object' ? due + pace.afterSeconds * 1000 : null;
    return this.core.db.transaction(() => {
      this.core.db.run(
        'UPDATE channel_messages SET status = ?, error_code = ?, date_updated = ?, date_sent = coalesce(date_sent, ?), next_step_at = ? WHERE sid = ?',
        status, errorCode, now, status === 'failed' || status === 'queued' ? null : now, nextAt, cm.sid,
      );
      const updated = { ...cm, status, error_code: errorCode };
      if (cm.status_callback) this.callback(updated, status);
      if (final && status === 'delivered' && this.toOwnedNumber(cm)) this.core.db.afterCommit(() => this.arrive(cm));
      else if (final) this.sendBaseUrls.delete(cm.sid as string);
      return cm.message_sid ? this.receipt(updated, status, errorCode, now) : undefined;
    });
  }

  private receipt(cm: Row, status: ChannelStatus, errorCode: number | null, now: number): Row | undefined {
    const db = this.core.db;
    const source: ChangeSource = cm.channel === 'whatsapp' ? 'WHATSAPP' : 'SMS';
    const existing = db.get('SELECT * FROM receipts WHERE channel_message_sid = ?', cm.sid);
    const emit = (type: 'created' | 'updated', row: Row, previous?: Row) =>
      this.core.events.emit({ type, resource: 'ConversationMessageReceipt', row, previous, accountSid: cm.account_sid as string, source, webhooks: true });
    if (existing) {
      const row = { ...existing, status, error_code: errorCode, date_updated: now };
      db.run('UPDATE receipts SET status = ?, error_code = ?, date_updated = ? WHERE seq = ?', status, errorCode, now, existing.seq);
      emit('updated', row, existing);
      return row;
    }
    const message = db.get('SELECT chat_service_sid FROM messages WHERE sid = ?', cm.message_sid);
    if (!message) return undefined;
    const row = engine.insertRow(db, this.core.descriptor('ConversationMessageReceipt'), {
      sid: newSid('DY', this.core.random),
      account_sid: cm.account_sid,
      chat_service_sid: message.chat_service_sid,
      conversation_sid: cm.conversation_sid,
      message_sid: cm.message_sid,
      participant_sid: cm.participant_sid,
      channel_message_sid: cm.sid,
      status,
      error_code: errorCode,
      date_created: now,
      date_updated: null,
    });
    db.run('UPDATE channel_messages SET receipt_sid = ? WHERE sid = ?', row.sid, cm.sid);
    emit('created', row);
    return row;
  }

  /** Move every paced message that is due (and, at start, finish immediate ones a previous run left). */
  sweep(resume = false): void {
    // the resume sweep is scheduled at start: an emulator closed at once must not touch its closed store
    if (this.stopped) return;
    const now = this.core.clock.now();
    const due = this.core.db.all('SELECT sid FROM channel_messages WHERE next_step_at IS NOT NULL AND next_step_at <= ? ORDER BY next_step_at, seq LIMIT 1000', now);
    for (const { sid } of due) {
      // a long clock jump can pass several steps
      for (let i = 0; i < 4; i++) {
        const cm = this.row(sid as string);
        if (!cm || cm.next_step_at === null || (cm.next_step_at as number) > now) break;
        if (!this.step(sid as string).moved) break;
      }
    }
    if (resume) {
      for (const { sid } of this.core.db.all("SELECT sid FROM channel_messages WHERE status = 'accepted'")) this.step(sid as string);
      const stuck = this.core.db.all("SELECT sid, to_address FROM channel_messages WHERE status IN ('queued', 'sent', 'delivered') AND next_step_at IS NULL");
      this.runToEnd(stuck.filter((r) => this.handsets.get(r.to_address as string).progression === 'immediate').map((r) => r.sid as string));
    }
  }

  /** One step for every message in flight to a manual handset; returns the receipts that moved. */
  advance(address: string): Row[] {
    const pending = this.core.db.all("SELECT sid FROM channel_messages WHERE to_address = ? AND status IN ('queued', 'sent', 'delivered') ORDER BY seq", address);
    const moved: Row[] = [];
    for (const { sid } of pending) {
      const { receipt } = this.step(sid as string);
      if (receipt) moved.push(receipt);
    }
    return moved;
  }

  // ---- between the account's own numbers ------------------------------------------------------------------------

  /** A Messaging API send (not a conversation's fan-out, which would loop) over SMS to a number an account owns. */
  private toOwnedNumber(cm: Row): boolean {
    return cm.direction === 'outbound-api' && cm.message_sid === null && cm.channel === 'sms' && this.numbers.owned(cm.to_address as string);
  }

  /**
   * A send delivered to an owned number arrives there as inbound, as at Twilio: routed exactly as
   * `POST /_emulator/inbound` routes a handset's message (its conversation, auto-creation, or its SmsUrl), keywords
   * included (a STOP opts the sender out of the number).
   */
  private arrive(cm: Row): void {
    const baseUrl = this.sendBaseUrls.get(cm.sid as string) ?? FALLBACK_BASE_URL;
    this.sendBaseUrls.delete(cm.sid as string);
    if (this.stopped) return;
    const media = cm.media ? (JSON.parse(cm.media as string) as string[]) : [];
    this.inbound({ From: cm.from_address, To: cm.to_address, Body: cm.body ?? '', MediaUrl: media }, baseUrl).catch((error: unknown) => {
      // the send itself was delivered; only its arrival failed (a conversation closed meanwhile, a store closing)
      if (!this.stopped) process.emitWarning(`tce: the message ${cm.sid as string} to ${cm.to_address as string} could not arrive as inbound: ${String(error)}`);
    });
  }

  // ---- status callbacks (Messaging API) -------------------------------------------------------------------------

  private callback(cm: Row, status: string): void {
    const params = statusCallbackParams(cm, status, this.core.clock.now());
    this.core.webhooks.enqueueCallback(cm.account_sid as string, cm.status_callback as string, 'StatusCallback', params, `callback|${cm.sid as string}`);
  }

  // ---- inbound --------------------------------------------------------------------------------------------------

  /**
   * A handset writes to one of the account's addresses: recorded as a channel message (its keywords acted on), then
   * routed as Twilio routes it. A message bound for a conversation passes the service's pre-event onMessageAdd
   * first, as any SMS/WhatsApp participant's action does: a refusal drops it (the channel message stays, as in
   * Twilio's Messaging log; the answer says `refused`), a JSON answer may change its body, author or attributes.
   * With no pre-event to ask, all of it is one transaction.
   */
  async inbound(input: Record<string, unknown>, baseUrl: string): Promise<InboundResult> {
    const handset = parseInbound(input);
    const { from, to, channel } = handset;
    const db = this.core.db;
    const account = this.ownerOf(from, to);
    const ctx = this.context(account, channel, baseUrl);
    const route = this.findRoute(account, from, to);
    if (route.kind === 'messaging') {
      return db.transaction(() => {
        const sid = this.record(account, handset);
        return { routedTo: 'messaging', channelMessageSid: sid, ...(this.numberWebhook(account, handset, sid) ? { webhook: true as const } : {}) };
      });
    }
    const media = handset.mediaUrls.length === 0 ? null : JSON.stringify(mediaOfUrls(handset.mediaUrls, handset.contentTypes, this.core.random));
    const fields: Input = { Author: from, Body: handset.body };
    const serviceSid = route.kind === 'conversation' ? (route.conversation.chat_service_sid as string) : route.serviceSid;
    if (!this.core.webhooks.hasPreTarget(account.sid, serviceSid, 'onMessageAdd')) {
      return db.transaction(() => {
        const sid = this.record(account, handset);
        return this.deliver(ctx, route, this.conversationFor(ctx, route, from, to), sid, fields, media);
      });
    }
    const { sid, conversation } = db.transaction(() => {
      const sid = this.record(account, handset);
      return { sid, conversation: this.conversationFor(ctx, route, from, to) };
    });
    const service = db.get('SELECT * FROM services WHERE sid = ?', serviceSid) as Row;
    const answer = await this.core.webhooks.preEvent(
      account.sid, serviceSid, 'onMessageAdd', 'ConversationMessage', undefined, { ...fields, ...(media ? { Media: media } : {}) },
      { Service: service, Conversation: conversation }, ctx.source,
    );
    const routedTo = route.kind === 'conversation' ? 'conversation' : 'autocreated';
    if (answer?.rejected) {
      db.transaction(() => db.run('UPDATE channel_messages SET conversation_sid = ? WHERE sid = ?', conversation.sid, sid));
      return { routedTo, conversationSid: conversation.sid as string, channelMessageSid: sid, refused: true };
    }
    for (const [key, param] of Object.entries(PRE_EVENT_CHANGES)) if (answer?.changes[key] !== undefined) fields[param] = answer.changes[key];
    return db.transaction(() => {
      const fresh = db.get('SELECT * FROM conversations WHERE sid = ?', conversation.sid);
      if (!fresh) throw twilioError('NotFound', { path: `/Conversations/${conversation.sid as string}` });
      return this.deliver(ctx, route, fresh, sid, fields, media);
    });
  }

  /**
   * The account that owns the receiving address: a participant's proxy, an address configuration, a number's
   * webhook, or the first account.
   */
  private ownerOf(from: string, to: string): Account {
    const db = this.core.db;
    const owner =
      db.get("SELECT p.account_sid FROM participants p JOIN conversations c ON c.sid = p.conversation_sid WHERE p.proxy_address = ? AND p.address = ? AND c.state != 'closed' LIMIT 1", to, from) ??
      db.get('SELECT account_sid FROM address_configurations WHERE address = ? LIMIT 1', to) ??
      db.get('SELECT account_sid FROM phone_numbers WHERE address = ?', to);
    return (owner ? this.core.accounts.get(owner.account_sid as string) : undefined) ?? this.core.accounts.list()[0];
  }

  /** Store the handset's message as the channel received it (and open its WhatsApp window); returns its SID. */
  private record(account: Account, handset: InboundMessage): string {
    const { from, to, channel, body, mediaUrls } = handset;
    const db = this.core.db;
    const now = this.core.clock.now();
    db.run('INSERT OR REPLACE INTO channel_sessions (account_sid, address, sender, last_inbound_at) VALUES (?, ?, ?, ?)', account.sid, from, to, now);
    const sid = newSid(mediaUrls.length ? 'MM' : 'SM', this.core.random);
    db.run(
      `INSERT INTO channel_messages (sid, account_sid, direction, channel, to_address, from_address, messaging_service_sid, body, media, status, date_created, date_updated, date_sent)
       VALUES (?, ?, 'inbound', ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)`,
      sid, account.sid, channel, to, from, this.serviceOf(to), body, mediaUrls.length ? JSON.stringify(mediaUrls) : null, now, now, now,
    );
    if (channel === 'sms') this.optOutKeywords(account, from, to, body, now);
    return sid;
  }

  /** The Messaging Service whose sender pool holds this address (the first by SID when several do), if any. */
  private serviceOf(address: string): string | null {
    const row = this.core.db.get('SELECT service_sid FROM messaging_service_senders WHERE sender = ? ORDER BY service_sid LIMIT 1', address);
    return (row?.service_sid as string | undefined) ?? null;
  }

  /**
   * Queue the receiving number's incoming-message webhook, if it has one (in the inbound's transaction: durable
   * like every delivery). Keywords were acted on first; Twilio forwards STOP, START and HELP messages too.
   * Deliveries of one handset to one number leave in order.
   */
  private numberWebhook(account: Account, handset: InboundMessage, sid: string): boolean {
    const config = this.numbers.find(handset.to);
    if (!config || config.accountSid !== account.sid) return false;
    const params = inboundWebhookParams({
      sid,
      accountSid: account.sid,
      messagingServiceSid: this.serviceOf(handset.to),
      from: handset.from,
      to: handset.to,
      body: handset.body,
      mediaUrls: handset.mediaUrls,
      contentTypes: handset.contentTypes,
    });
    this.core.webhooks.enqueueCallback(account.sid, config.smsUrl, INBOUND_EVENT_TYPE, params, `inbound|${handset.to}|${handset.from}`, config.smsMethod);
    return true;
  }

  private optOutKeywords(account: Account, from: string, to: string, body: string, now: number): void {
    const word = keyword(body);
    if (!word) return;
    const db = this.core.db;
    if (word === 'stop') db.run('INSERT OR IGNORE INTO opt_outs (account_sid, address, sender, since) VALUES (?, ?, ?, ?)', account.sid, from, to, now);
    if (word === 'start') db.run('DELETE FROM opt_outs WHERE account_sid = ? AND address = ? AND sender = ?', account.sid, from, to);
    // Twilio's own confirmation goes back to the handset (it is in the outbox, not a conversation message).
    db.run(
      `INSERT INTO channel_messages (sid, account_sid, direction, channel, to_address, from_address, body, status, date_created, date_updated, date_sent)
       VALUES (?, ?, 'outbound-reply', 'sms', ?, ?, ?, 'delivered', ?, ?, ?)`,
      newSid('SM', this.core.random), account.sid, from, to, REPLIES[word], now, now, now,
    );
  }

  private context(account: Account, channel: 'sms' | 'whatsapp', baseUrl: string): OperationContext {
    return { ...this.core.systemContext(account, baseUrl), source: channel === 'whatsapp' ? 'WHATSAPP' : 'SMS', webhookEnabled: true };
  }

  /** Where Twilio routes a handset's message: the conversation holding the pair, an auto-creating address, or Messaging. */
  private findRoute(account: Account, from: string, to: string): InboundRoute {
    const db = this.core.db;
    const match = db.get(
      `SELECT p.conversation_sid FROM participants p JOIN conversations c ON c.sid = p.conversation_sid
        WHERE p.account_sid = ? AND p.address = ? AND p.proxy_address = ? AND c.state != 'closed' ORDER BY p.seq DESC LIMIT 1`,
      account.sid, from, to,
    );
    if (match) return { kind: 'conversation', conversation: db.get('SELECT * FROM conversations WHERE sid = ?', match.conversation_sid) as Row };
    const config = db.get('SELECT * FROM address_configurations WHERE account_sid = ? AND address = ?', account.sid, to);
    if (config && config.auto_creation_enabled === 1) {
      return { kind: 'autocreate', config, serviceSid: (config.auto_creation_conversation_service_sid as string | null) ?? account.defaultServiceSid };
    }
    return { kind: 'messaging' };
  }

  /** The conversation the message goes to: the matched one, or a new one with the handset and the configured webhook. */
  private conversationFor(ctx: OperationContext, route: Exclude<InboundRoute, { kind: 'messaging' }>, from: string, to: string): Row {
    if (route.kind === 'conversation') return route.conversation;
    const db = this.core.db;
    const { config } = route;
    const service = db.get('SELECT * FROM services WHERE sid = ?', route.serviceSid) as Row;
    const inService = { ...ctx, parents: { Service: service } };
    const conversation = engine.create(inService, this.core.descriptor('Conversation'), { FriendlyName: from });
    const inConversation = { ...inService, parents: { Service: service, Conversation: conversation } };
    engine.create(inConversation, this.core.descriptor('ConversationParticipant'), { 'MessagingBinding.Address': from, 'MessagingBinding.ProxyAddress': to });
    const type = config.auto_creation_type as string | null;
    if (type === 'webhook' && config.auto_creation_webhook_url) {
      engine.create(inConversation, this.core.descriptor('ConversationScopedWebhook'), {
        Target: 'webhook',
        'Configuration.Url': config.auto_creation_webhook_url as string,
        'Configuration.Method': String(config.auto_creation_webhook_method ?? 'POST').toLowerCase(),
        'Configuration.Filters': JSON.parse((config.auto_creation_webhook_filters as string | null) ?? '[]') as string[],
      });
    } else if (type === 'studio' && config.auto_creation_studio_flow_sid) {
      engine.create(inConversation, this.core.descriptor('ConversationScopedWebhook'), { Target: 'studio', 'Configuration.FlowSid': config.auto_creation_studio_flow_sid as string });
    }
    return db.get('SELECT * FROM conversations WHERE sid = ?', conversation.sid) as Row;
  }

  /** Add the message to its conversation and link the channel message to it. */
  private deliver(ctx: OperationContext, route: InboundRoute, conversation: Row, channelSid: string, fields: Input, media: string | null): InboundResult {
    const service = this.core.db.get('SELECT * FROM services WHERE sid = ?', conversation.chat_service_sid) as Row;
    const scoped = { ...ctx, parents: { Service: service, Conversation: conversation } };
    if (conversation.state === 'closed') throw twilioError('ConversationClosed');
    const message = engine.create(scoped, this.core.descriptor('ConversationMessage'), fields, media ? { media } : {});
    this.core.db.run('UPDATE channel_messages SET conversation_sid = ?, message_sid = ? WHERE sid = ?', conversation.sid, message.sid, channelSid);
    return {
      routedTo: route.kind === 'conversation' ? 'conversation' : 'autocreated',
      conversationSid: conversation.sid as string,
      messageSid: message.sid as string,
      channelMessageSid: channelSid,
    };
  }

  // ---- views ---------------------------------------------------------------------------------------------------

  outbox(filter: { to?: string; from?: string; conversationSid?: string }): ChannelMessage[] {
    const conditions = new Conditions(["direction != 'inbound'"])
      .equals('to_address', filter.to)
      .equals('from_address', filter.from)
      .equals('conversation_sid', filter.conversationSid);
    return this.core.db.all(`SELECT * FROM channel_messages${conditions.where()} ORDER BY seq`, ...conditions.args).map((r) => ({
      sid: r.sid as string,
      direction: r.direction as string,
      channel: r.channel as 'sms' | 'whatsapp',
      to: r.to_address as string,
      from: r.from_address as string,
      body: (r.body as string | null) ?? null,
      status: r.status as string,
      errorCode: (r.error_code as number | null) ?? null,
      conversationSid: (r.conversation_sid as string | null) ?? null,
      messageSid: (r.message_sid as string | null) ?? null,
      dateSent: r.date_sent === null ? null : new Date(r.date_sent as number).toISOString(),
    }));
  }

  optOuts(): { address: string; sender: string; since: string; accountSid: string }[] {
    return this.core.db.all('SELECT * FROM opt_outs ORDER BY since').map((r) => ({
      address: r.address as string,
      sender: r.sender as string,
      since: new Date(r.since as number).toISOString(),
      accountSid: r.account_sid as string,
    }));
  }

  reset(accountSid?: string): void {
    const db = this.core.db;
    for (const table of ['channel_messages', 'opt_outs', 'channel_sessions']) {
      if (accountSid) db.run(`DELETE FROM ${table} WHERE account_sid = ?`, accountSid);
      else db.run(`DELETE FROM ${table}`);
    }
    if (!accountSid) this.handsets.clear();
  }
}
