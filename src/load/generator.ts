/**
 * `tce load` events: a deterministic stream of signed Conversations webhooks spread over N conversations.
 *
 * Each conversation has a chat participant (an agent, `Identity`) and an SMS participant (a customer). Its first
 * events are the two onParticipantAdded; then mostly onMessageAdded with an increasing `Index`, and
 * onDeliveryUpdated (sent, then delivered or read) for some agent messages. Fields are the ones
 * src/emulator/webhooks/payloads.ts builds (AccountSid, EventType, Source, …, RetryCount), form-encoded and signed
 * like src/emulator/webhooks/service.ts does.
 *
 * The stream is pulled one request per schedule slot (`next(slot)`), so with a seed the sequence, including where
 * duplicates and reorders fall, is the same run after run whatever the consumer's timing:
 *   - duplicates: with probability `duplicates`, a request is sent again (same body, signature and idempotency
 *     token) a little later, counted in slots (20-250 ms at the configured rate);
 *   - reorders: with probability `reorder`, an onMessageAdded is held and sent right after the conversation's next
 *     onMessageAdded, so the consumer sees `Index` go backwards.
 */
import { createRandom, type RandomSource } from '../emulator/random.js';
import { formEncode, twilioSignature, type FormParams } from '../emulator/webhooks/signing.js';
import { form } from '../emulator/webhooks/payloads.js';
import { isoMillis } from '../emulator/wire/dates.js';

export type SendKind = 'new' | 'duplicate' | 'reordered';

/** One HTTP request to make. Duplicates share body, signature and token with the original. */
export interface LoadRequest {
  kind: SendKind;
  eventType: string;
  conversationSid: string;
  token: string;
  body: string;
  signature: string;
  params: FormParams;
}

export interface GeneratorOptions {
  url: string;
  authToken: string;
  accountSid: string;
  conversations: number;
  duplicates: number;
  reorder: number;
  /** requests per second: turns the duplicates' delay (ms) into slots */
  rate: number;
  random: RandomSource;
  now?: () => number;
}

interface Participant {
  sid: string;
  identity?: string;
  address?: string;
  proxyAddress?: string;
  dateCreated: number;
}

interface Conversation {
  sid: string;
  chatServiceSid: string;
  messagingServiceSid: string;
  agent: Participant;
  customer: Participant;
  /** participants not announced yet */
  toAnnounce: Participant[];
  nextIndex: number;
  /** onDeliveryUpdated still to send: [messageSid, status] */
  receipts: { messageSid: string; receiptSid: string; channelSid: string; status: string; created: number }[];
  held?: LoadRequest;
}

const BODIES = ['hi', 'Hello, I need help with my order', 'Thanks!', 'Can you check order #4411?', 'ok 👍', 'Your package ships tomorrow.', 'What time do you close today?', 'Sure — one moment please.'];

export const sid = (random: RandomSource, prefix: string) => prefix + random.hex(32);

export class EventGenerator {
  private readonly conversations: Conversation[] = [];
  private readonly ready: LoadRequest[] = [];
  private readonly dueDuplicates = new Map<number, LoadRequest[]>();
  private readonly random: RandomSource;
  private readonly now: () => number;
  private readonly dupMinSlots: number;
  private readonly dupMaxSlots: number;
  private phoneSerial = 0;
  private checkedSlot = -1;
  /** events made (each counted once, whether sent yet or held) */
  made = 0;

  constructor(private readonly options: GeneratorOptions) {
    this.random = options.random;
    this.now = options.now ?? Date.now;
    const slotsPerMs = options.rate / 1000;
    this.dupMinSlots = Math.max(1, Math.round(20 * slotsPerMs));
    this.dupMaxSlots = Math.max(this.dupMinSlots, Math.round(250 * slotsPerMs));
    const chatServiceSid = sid(this.random, 'IS');
    const messagingServiceSid = sid(this.random, 'MG');
    for (let i = 0; i < options.conversations; i++) {
      const created = this.now();
      const agent: Participant = { sid: sid(this.random, 'MB'), identity: `agent-${i % 50}`, dateCreated: created };
      const customer: Participant = {
        sid: sid(this.random, 'MB'),
        address: `+1555${String(1_000_000 + this.phoneSerial++).slice(1)}`,
        proxyAddress: '+15555550100',
        dateCreated: created,
      };
      this.conversations.push({
        sid: sid(this.random, 'CH'),
        chatServiceSid,
        messagingServiceSid,
        agent,
        customer,
        toAnnounce: [customer, agent],
        nextIndex: 0,
        receipts: [],
      });
    }
  }

  /** The request for schedule slot `slot` (slots are numbered from 0, one per request). */
  next(slot: number): LoadRequest {
    // Duplicates due by now (slots skipped by the runner, when it drops, release theirs here) go to the front.
    for (let s = this.checkedSlot + 1; s <= slot; s++) {
      const due = this.dueDuplicates.get(s);
      if (!due) continue;
      this.dueDuplicates.delete(s);
      this.ready.unshift(...due);
    }
    this.checkedSlot = Math.max(this.checkedSlot, slot);
    while (this.ready.length === 0) this.generate();
    const request = this.ready.shift()!;
    if (request.kind !== 'duplicate' && this.options.duplicates > 0 && this.random.next() < this.options.duplicates) {
      const at = slot + this.dupMinSlots + Math.floor(this.random.next() * (this.dupMaxSlots - this.dupMinSlots + 1));
      const copy: LoadRequest = { ...request, kind: 'duplicate' };
      const list = this.dueDuplicates.get(at);
      if (list) list.push(copy);
      else this.dueDuplicates.set(at, [copy]);
    }
    return request;
  }

  /** Held events never followed by their conversation's next message: sent at the end of a run. */
  drainHeld(): LoadRequest[] {
    const out: LoadRequest[] = [];
    for (const c of this.conversations) {
      if (c.held) out.push({ ...c.held, kind: 'new' });
      c.held = undefined;
    }
    return out;
  }

  /** Duplicates scheduled but not yet due (dropped at the end of a run). */
  get pendingDuplicates(): number {
    let n = 0;
    for (const list of this.dueDuplicates.values()) n += list.length;
    return n;
  }

  private generate(): void {
    const c = this.conversations[Math.floor(this.random.next() * this.conversations.length)];
    this.made++;
    const participant = c.toAnnounce.shift();
    if (participant) {
      this.ready.push(this.participantAdded(c, participant));
      return;
    }
    if (c.receipts.length > 0 && this.random.next() < 0.5) {
      this.ready.push(this.deliveryUpdated(c, c.receipts.shift()!));
      return;
    }
    const message = this.messageAdded(c);
    const held = c.held;
    if (!held && this.options.reorder > 0 && this.random.next() < this.options.reorder) {
      c.held = message;
      return;
    }
    this.ready.push(message);
    if (held) {
      c.held = undefined;
      this.ready.push({ ...held, kind: 'reordered' });
    }
  }

  private request(eventType: string, conversationSid: string, source: string, fields: Record<string, string | number | undefined>): LoadRequest {
    // Field order as the emulator sends them: AccountSid, EventType, Source, the event's fields, RetryCount.
    const params = form({ AccountSid: this.options.accountSid, EventType: eventType, Source: source, ...fields, RetryCount: '0' });
    return {
      kind: 'new',
      eventType,
      conversationSid,
      token: this.random.hex(32),
      body: formEncode(params),
      signature: twilioSignature(this.options.authToken, this.options.url, params),
      params,
    };
  }

  private participantAdded(c: Conversation, p: Participant): LoadRequest {
    const date = isoMillis(p.dateCreated);
    return this.request('onParticipantAdded', c.sid, 'API', {
      ConversationSid: c.sid,
      ParticipantSid: p.sid,
      Identity: p.identity,
      Attributes: '{}',
      'MessagingBinding.Address': p.address,
      'MessagingBinding.ProxyAddress': p.proxyAddress,
      'MessagingBinding.Type': p.address ? 'SMS' : 'CHAT',
      DateCreated: date,
      DateUpdated: date,
    });
  }

  private messageAdded(c: Conversation): LoadRequest {
    const fromAgent = this.random.next() < 0.5;
    const author = fromAgent ? c.agent : c.customer;
    const messageSid = sid(this.random, 'IM');
    const created = this.now();
    const body = BODIES[Math.floor(this.random.next() * BODIES.length)];
    const index = c.nextIndex++;
    if (fromAgent && this.random.next() < 0.3) {
      const receiptSid = sid(this.random, 'DY');
      const channelSid = sid(this.random, 'SM');
      const final = this.random.next() < 0.9 ? (this.random.next() < 0.5 ? 'delivered' : 'read') : 'undelivered';
      c.receipts.push({ messageSid, receiptSid, channelSid, status: 'sent', created });
      c.receipts.push({ messageSid, receiptSid, channelSid, status: final, created });
    }
    return this.request('onMessageAdded', c.sid, fromAgent ? 'SDK' : 'SMS', {
      ConversationSid: c.sid,
      MessageSid: messageSid,
      MessagingServiceSid: c.messagingServiceSid,
      Index: index,
      Body: body,
      Author: fromAgent ? author.identity : author.address,
      ParticipantSid: author.sid,
      Attributes: '{}',
      DateCreated: isoMillis(created),
    });
  }

  private deliveryUpdated(c: Conversation, r: Conversation['receipts'][number]): LoadRequest {
    return this.request('onDeliveryUpdated', c.sid, 'API', {
      ConversationSid: c.sid,
      ChatServiceSid: c.chatServiceSid,
      MessageSid: r.messageSid,
      DeliveryReceiptSid: r.receiptSid,
      ChannelMessageSid: r.channelSid,
      ParticipantSid: c.customer.sid,
      Status: r.status,
      ErrorCode: r.status === 'undelivered' ? 30003 : undefined,
      DateCreated: isoMillis(r.created),
      DateUpdated: isoMillis(this.now()),
    });
  }
}

export function createGenerator(options: Omit<GeneratorOptions, 'random'> & { seed?: string }): EventGenerator {
  return new EventGenerator({ ...options, random: createRandom(options.seed) });
}
