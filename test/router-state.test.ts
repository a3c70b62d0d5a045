/**
 * Derived state (src/router/state): a pure fold of the event log. The property: any permutation of the same events,
 * with any duplicates, folds to the same docs (compared serialised, so key order counts too) and the same view.
 * The events are shaped as the emulator sends them (src/emulator/webhooks/payloads.ts, messaging/status-callback.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LoggedEvent, EventSource } from '../src/router/events.js';
import type { EntityDoc } from '../src/router/store/types.js';
import { docText, sameDoc, toEntityDoc } from '../src/router/store/event-rows.js';
import {
  applyEvent,
  conversationView,
  entityKey,
  foldLog,
  isSuppressed,
  joinDocs,
  relatedRefs,
  suppressionView,
  touchedEntities,
} from '../src/router/state/fold.js';
import { deliveryRank, isTerminal, laterStatus, toDeliveryStatus } from '../src/router/state/delivery-rank.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const CH = 'CH00000000000000000000000000000001';
const MG = 'MG00000000000000000000000000000001';
const PROXY = '+15559990000';
const WA_PROXY = 'whatsapp:+15559990000';

let nextId = 1;
function event(source: EventSource, eventType: string, params: Record<string, string>, receivedAt: number, dedupeKey?: string): LoggedEvent {
  const key =
    dedupeKey ??
    `${eventType}|${params.MessageSid ?? params.ParticipantSid ?? params.ConversationSid ?? params.From ?? ''}|${params.DateUpdated ?? params.DateCreated ?? params.At ?? ''}|${params.Status ?? params.MessageStatus ?? ''}`;
  const id = nextId++;
  return {
    id,
    source,
    eventType,
    dedupeKey: key,
    partitionKey: params.ConversationSid ?? `message:${params.MessageSid ?? ''}`,
    params: { AccountSid: 'AC00000000000000000000000000000001', ...params },
    receivedAt,
    signature: 'valid',
    correlationId: `c${id}`,
  };
}

/** Conversations post-event (RetryCount, EventType, Source as the emulator sends them) */
const conv = (eventType: string, params: Record<string, string>, at: number, source = 'API') =>
  event('conversations', eventType, { EventType: eventType, RetryCount: '0', Source: source, ConversationSid: CH, ...params }, at + 37);

const conversationAdded = (at: number, extra: Record<string, string> = {}) =>
  conv('onConversationAdded', { UniqueName: 'sms:+15550000001', FriendlyName: 'Support', Attributes: '{}', State: 'active', MessagingServiceSid: MG, ChatServiceSid: 'IS1', DateCreated: iso(at), DateUpdated: iso(at), ...extra }, at);

type Channel = 'sms' | 'whatsapp' | 'chat';
interface Person {
  sid: string;
  channel: Channel;
  address?: string;
  proxy?: string;
  identity?: string;
}

function person(i: number, channel: Channel): Person {
  const sid = `MB0000000000000000000000000000000${i}`;
  if (channel === 'chat') return { sid, channel, identity: `agent${i}` };
  const number = `+1555000000${i}`;
  return channel === 'sms' ? { sid, channel, address: number, proxy: PROXY } : { sid, channel, address: `whatsapp:${number}`, proxy: WA_PROXY };
}

function participantParams(p: Person): Record<string, string> {
  const out: Record<string, string> = { ParticipantSid: p.sid, Attributes: '{}', 'MessagingBinding.Type': p.channel.toUpperCase() };
  if (p.identity) out.Identity = p.identity;
  if (p.address) out['MessagingBinding.Address'] = p.address;
  if (p.proxy) out['MessagingBinding.ProxyAddress'] = p.proxy;
  return out;
}
const participantAdded = (p: Person, at: number) => conv('onParticipantAdded', { ...participantParams(p), DateCreated: iso(at), DateUpdated: iso(at) }, at);
const participantRemoved = (p: Person, at: number, created: number) =>
  conv('onParticipantRemoved', { ...participantParams(p), DateCreated: iso(created), DateUpdated: iso(created), DateRemoved: iso(at) }, at);

const messageSid = (m: number) => `IM0000000000000000000000000000000${m}`;
function messageAdded(m: number, author: Person, at: number, body = `body ${m}`): LoggedEvent {
  const inbound = author.channel !== 'chat';
  return conv(
    'onMessageAdded',
    {
      MessageSid: messageSid(m),
      MessagingServiceSid: MG,
      Index: String(m),
      Body: body,
      Author: inbound ? author.address! : author.identity!,
      ParticipantSid: author.sid,
      Attributes: '{}',
      DateCreated: iso(at),
    },
    at,
    inbound ? (author.channel === 'sms' ? 'SMS' : 'WHATSAPP') : 'SDK',
  );
}
const messageUpdated = (m: number, at: number, created: number, body: string) =>
  conv('onMessageUpdated', { MessageSid: messageSid(m), Index: String(m), Body: body, Attributes: '{}', DateCreated: iso(created), DateUpdated: iso(at) }, at);
const messageRemoved = (m: number, at: number, created: number) =>
  conv('onMessageRemoved', { MessageSid: messageSid(m), Index: String(m), Attributes: '{}', DateCreated: iso(created), DateUpdated: iso(created), DateRemoved: iso(at) }, at);

function receipt(m: number, p: Person, status: string, at: number, created: number, code?: number): LoggedEvent {
  return conv(
    'onDeliveryUpdated',
    {
      MessageSid: messageSid(m),
      ParticipantSid: p.sid,
      DeliveryReceiptSid: `DY${m}${p.sid.slice(-4)}`,
      ChannelMessageSid: `SM${m}${p.sid.slice(-4)}`,
      Status: status,
      ...(code === undefined ? {} : { ErrorCode: String(code) }),
      DateCreated: iso(created),
      DateUpdated: iso(at),
    },
    at,
  );
}

/** A Messaging status callback: no timestamp, one per segment for a multi-segment SMS. */
function statusCallback(sid: string, to: string, status: string, receivedAt: number, code?: number, segment = 0): LoggedEvent {
  const params: Record<string, string> = { MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, From: PROXY, To: to, MessagingServiceSid: MG, ApiVersion: '2010-04-01' };
  if (code !== undefined) params.ErrorCode = String(code);
  return event('messaging-status', 'status', params, receivedAt, `status|${sid}|${status}|${segment}`);
}
const inbound = (from: string, to: string, body: string, receivedAt: number) =>
  event('messaging-inbound', 'inbound', { MessageSid: `SMin${receivedAt}`, From: from, To: to, Body: body, NumMedia: '0' }, receivedAt, `inbound|SMin${receivedAt}`);
const suppression = (type: 'suppressionAdded' | 'suppressionLifted', address: string, sender: string, at: number, extra: Record<string, string> = {}) =>
  event('router', type, { Address: address, Sender: sender, At: iso(at), ...extra }, at + 5, `${type}|${sender}|${address}|${iso(at)}`);

const RECEIPT_STEPS = ['queued', 'sent', 'delivered', 'read'] as const;
const CODES = [30003, 30005, 30006, 30007, 21610, 63016, 30008];

interface Spec {
  channels: Channel[];
  messages: Array<{ author: number; steps: number[]; fail: number[]; edit: boolean; remove: boolean }>;
  removeParticipant: number;
  segments: Array<{ status: number; code: number }>;
  suppressions: Array<{ add: boolean; at: number }>;
  /** time unit in ms: small units make many events share a millisecond (ties) */
  unit: number;
}

/** A realistic log, in the order Twilio would produce it. */
function scenario(spec: Spec): LoggedEvent[] {
  let t = T0;
  const tick = () => (t += spec.unit);
  const people = spec.channels.map((channel, i) => person(i + 1, channel));
  const out: LoggedEvent[] = [conversationAdded(t)];
  const joined = new Map<string, number>();
  for (const p of people) {
    joined.set(p.sid, tick());
    out.push(participantAdded(p, t));
  }
  out.push(conv('onConversationUpdated', { UniqueName: 'sms:+15550000001', FriendlyName: 'Support #2', Attributes: '{"tenantId":"t1"}', State: 'active', DateCreated: iso(T0), DateUpdated: iso(tick()) }, t));
  spec.messages.forEach((msg, i) => {
    const m = i + 1;
    const author = people[msg.author % people.length]!;
    const created = tick();
    out.push(messageAdded(m, author, created));
    people.forEach((p, j) => {
      if (p === author || p.channel === 'chat') return;
      const steps = msg.steps[j % msg.steps.length]!;
      for (let s = 0; s < steps; s++) out.push(receipt(m, p, RECEIPT_STEPS[s]!, tick(), created));
      const fail = msg.fail[j % msg.fail.length]!;
      if (fail >= 0) out.push(receipt(m, p, fail % 2 === 0 ? 'failed' : 'undelivered', tick(), created, CODES[fail % CODES.length]));
    });
    if (msg.edit) out.push(messageUpdated(m, tick(), created, `edited ${m}`));
    if (msg.remove) out.push(messageRemoved(m, tick(), created));
  });
  out.push(conv('onConversationStateUpdated', { ChatServiceSid: 'IS1', MessagingServiceSid: MG, StateFrom: 'active', StateTo: 'inactive', StateUpdated: iso(tick()), Reason: 'TIMER' }, t));
  const sms = people.find((p) => p.channel !== 'chat');
  if (sms) {
    out.push(inbound(sms.address!, sms.proxy!, 'hello', tick()));
    spec.segments.forEach((seg, i) => {
      const status = ['queued', 'sent', 'delivered', 'undelivered', 'failed'][seg.status % 5]!;
      const code = status === 'failed' || status === 'undelivered' ? CODES[seg.code % CODES.length] : undefined;
      out.push(statusCallback('SM00000000000000000000000000000001', sms.address!, status, tick(), code, i));
    });
    spec.suppressions.forEach((s) => {
      out.push(suppression(s.add ? 'suppressionAdded' : 'suppressionLifted', sms.address!, s.at % 2 === 0 ? MG : sms.proxy!, T0 + s.at * spec.unit, s.add ? { Reason: 'keyword', Keyword: 'STOP' } : { Keyword: 'START' }));
    });
  }
  const removed = people[spec.removeParticipant % (people.length + 1)];
  if (removed) {
    out.push(participantRemoved(removed, tick(), joined.get(removed.sid)!));
    out.push(event('router', 'participantRemoved', { ConversationSid: CH, ParticipantSid: removed.sid, Address: removed.address ?? '', Reason: 'stop' }, tick(), `participantRemoved|${removed.sid}`));
  }
  return out;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  channels: fc.array(fc.constantFrom<Channel>('sms', 'whatsapp', 'chat'), { minLength: 2, maxLength: 4 }),
  messages: fc.array(
    fc.record({
      author: fc.nat(3),
      steps: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fail: fc.array(fc.integer({ min: -3, max: 13 }), { minLength: 1, maxLength: 4 }),
      edit: fc.boolean(),
      remove: fc.boolean(),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  removeParticipant: fc.nat(4),
  segments: fc.array(fc.record({ status: fc.nat(4), code: fc.nat(6) }), { maxLength: 5 }),
  suppressions: fc.array(fc.record({ add: fc.boolean(), at: fc.nat(40) }), { maxLength: 4 }),
  unit: fc.constantFrom(1, 250, 1000),
});

/** a duplicate: same dedupe key and content, a later log position and another request */
const duplicate = (e: LoggedEvent): LoggedEvent => ({ ...e, params: { ...e.params }, id: nextId++, correlationId: `dup${nextId}` });

const serialise = (state: Map<string, EntityDoc>) => JSON.stringify([...state]);

function viewOf(state: ReadonlyMap<string, EntityDoc>) {
  const docs = [...state.values()].filter((d) => d.conversationSid === CH);
  const related = relatedRefs(docs)
    .map((ref) => state.get(entityKey(ref)))
    .filter((d): d is EntityDoc => d !== undefined);
  return conversationView(docs, related);
}

/** What the worker does: load the touched docs, apply, write back what changed. */
function applyIncrementally(events: Iterable<LoggedEvent>): Map<string, EntityDoc> {
  const store = new Map<string, EntityDoc>();
  for (const e of events) {
    const current = new Map<string, EntityDoc>();
    for (const ref of touchedEntities(e)) {
      const doc = store.get(entityKey(ref));
      // through JSON, as a store would keep it
      if (doc) current.set(entityKey(ref), JSON.parse(JSON.stringify(doc)) as EntityDoc);
    }
    for (const doc of applyEvent(current, e)) {
      expect(current.has(entityKey(doc)) || touchedEntities(e).some((r) => entityKey(r) === entityKey(doc))).toBe(true);
      store.set(entityKey(doc), doc);
    }
  }
  return new Map([...store.keys()].sort().map((k) => [k, store.get(k)!]));
}

describe('derived state: any permutation with duplicates folds to the same state', () => {
  it('10,000 random orderings of realistic logs, with duplicates, give the same docs and view', () => {
    const arb = specArb.chain((spec) => {
      const events = scenario(spec);
      return fc.tuple(
        fc.constant(events),
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.tuple(fc.nat(events.length - 1), fc.nat(events.length)), { maxLength: 12 }),
      );
    });
    fc.assert(
      fc.property(arb, ([inOrder, shuffled, dups]) => {
        const log = [...shuffled];
        for (const [which, where] of dups) log.splice(where, 0, duplicate(inOrder[which]!));
        const expected = foldLog(inOrder);
        const actual = foldLog(log);
        // serialised: deep-equal and the same key order; expect() only on a difference (10,000 runs stay cheap)
        const [got, want] = [serialise(actual), serialise(expected)];
        if (got !== want) expect(got).toBe(want);
        const [gotView, wantView] = [JSON.stringify(viewOf(actual)), JSON.stringify(viewOf(expected))];
        if (gotView !== wantView) expect(gotView).toBe(wantView);
      }),
      { numRuns: 10_000 },
    );
  });

  it('applying events one by one, as the worker does, equals foldLog, in any order', () => {
    fc.assert(
      fc.property(
        specArb.chain((spec) => {
          const events = scenario(spec);
          return fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }));
        }),
        ([inOrder, shuffled]) => {
          const log = [...shuffled, ...shuffled.slice(0, 5).map(duplicate)];
          expect(serialise(applyIncrementally(log))).toBe(serialise(foldLog(inOrder)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('joining two versions of a doc (what the store writes for a shared doc)', () => {
  it('the join of the folds of any two parts of a log, overlapping or not, is the fold of the whole', () => {
    fc.assert(
      fc.property(
        specArb.chain((spec) => {
          const events = scenario(spec);
          return fc.tuple(fc.constant(events), fc.array(fc.nat(2), { minLength: events.length, maxLength: events.length }));
        }),
        ([events, sides]) => {
          // 0: left part only, 1: right only, 2: both
          const left = foldLog(events.filter((_, i) => sides[i] !== 1));
          const right = foldLog(events.filter((_, i) => sides[i] !== 0));
          const joined = new Map(left);
          for (const [key, doc] of right) {
            // through JSON, as a store keeps the stored side
            const stored = joined.get(key);
            joined.set(key, stored ? joinDocs(JSON.parse(JSON.stringify(stored)) as EntityDoc, doc) : doc);
          }
          const sorted = new Map([...joined.keys()].sort().map((k) => [k, joined.get(k)!]));
          expect(serialise(sorted)).toBe(serialise(foldLog(events)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses to join two different docs', () => {
    const state = foldLog([inbound('+15550000001', PROXY, 'hi', T0), inbound('+15550000002', PROXY, 'hi', T0 + 1)]);
    const [a, b] = [...state.values()];
    expect(() => joinDocs(a!, b!)).toThrow(/cannot join/);
  });
});

describe("a doc's JSON text, worked out once per doc (event-rows docText)", () => {
  it('is the JSON of its doc; read back from SQLite it is the stored text; a copy with another doc has its own', () => {
    const stored = toEntityDoc({ kind: 'message', id: 'IM1', conversation_sid: 'CH1', doc: '{"b":1,"a":{"c":[2]}}' });
    expect(docText(stored)).toBe('{"b":1,"a":{"c":[2]}}');
    expect(docText(stored)).toBe(JSON.stringify(stored.doc));
    // a spread copy must not carry the first doc's text (the memo is not enumerable)
    const changed: EntityDoc = { ...stored, doc: { b: 2 } };
    expect(docText(changed)).toBe('{"b":2}');
    expect(sameDoc(stored, changed)).toBe(false);
    expect(sameDoc(stored, { ...stored, doc: JSON.parse('{"b":1,"a":{"c":[2]}}') as Record<string, unknown> })).toBe(true);
    expect(sameDoc(stored, { ...stored, conversationSid: 'CH2' })).toBe(false);
    // nothing of the memo shows in what is serialised or cloned
    expect(Object.keys(stored)).toEqual(['kind', 'id', 'conversationSid', 'doc']);
    expect(structuredClone(stored)).toEqual({ kind: 'message', id: 'IM1', conversationSid: 'CH1', doc: { b: 1, a: { c: [2] } } });
  });
});

const agent = person(1, 'chat');
const sms = person(2, 'sms');
const wa = person(3, 'whatsapp');
const base = () => [conversationAdded(T0), participantAdded(agent, T0 + 1), participantAdded(sms, T0 + 2), participantAdded(wa, T0 + 3), messageAdded(1, agent, T0 + 10)];

function view(events: LoggedEvent[]) {
  const v = viewOf(foldLog(events));
  if (!v) throw new Error('no view');
  return v;
}
const participantOf = (events: LoggedEvent[], sid: string) => view(events).participants.find((p) => p.sid === sid)!;
const orders = <T>(items: T[]): T[][] => [items, [...items].reverse()];

describe('delivery rank', () => {
  it('moves forward only; failures are terminal and failed wins over undelivered either way', () => {
    expect(deliveryRank('queued')! < deliveryRank('sent')!).toBe(true);
    expect(deliveryRank('sent')! < deliveryRank('delivered')!).toBe(true);
    expect(deliveryRank('delivered')! < deliveryRank('read')!).toBe(true);
    expect(deliveryRank('read')! < deliveryRank('undelivered')!).toBe(true);
    expect(laterStatus('failed', 'undelivered')).toBe('failed');
    expect(laterStatus('undelivered', 'failed')).toBe('failed');
    expect(isTerminal('failed') && isTerminal('undelivered') && isTerminal('canceled')).toBe(true);
    expect(isTerminal('read')).toBe(false);
    expect(deliveryRank('bogus')).toBeUndefined();
    for (const s of ['accepted', 'scheduled', 'queued', 'sending']) expect(toDeliveryStatus(s)).toBe('queued');
    expect(toDeliveryStatus('read')).toBe('read');
  });
});

describe('merge rules', () => {
  it('a late delivered never overwrites read', () => {
    const read = receipt(1, sms, 'read', T0 + 30, T0 + 10);
    const delivered = receipt(1, sms, 'delivered', T0 + 20, T0 + 10);
    for (const order of orders([read, delivered])) {
      expect(view([...base(), ...order]).messages[0]!.delivery[sms.sid]).toBe('read');
    }
    // even when the delivered receipt carries the later time
    const lateDelivered = receipt(1, sms, 'delivered', T0 + 40, T0 + 10);
    expect(view([...base(), read, lateDelivered]).messages[0]!.delivery[sms.sid]).toBe('read');
  });

  it('a failed receipt stays failed, with its code, whatever success comes after', () => {
    const failed = receipt(1, wa, 'failed', T0 + 20, T0 + 10, 63016);
    const read = receipt(1, wa, 'read', T0 + 30, T0 + 10);
    for (const order of orders([failed, read])) {
      const m = view([...base(), ...order]).messages[0]!;
      expect(m.delivery[wa.sid]).toBe('failed');
      expect(m.errorCodes[wa.sid]).toBe(63016);
    }
  });

  it('a failed segment of a multi-segment SMS is not overwritten by a later delivered segment (postmangovsg#1150)', () => {
    const sid = 'SM00000000000000000000000000000009';
    const segs = [
      statusCallback(sid, sms.address!, 'sent', T0 + 1, undefined, 0),
      statusCallback(sid, sms.address!, 'delivered', T0 + 2, undefined, 1),
      statusCallback(sid, sms.address!, 'undelivered', T0 + 3, 30007, 2),
      statusCallback(sid, sms.address!, 'delivered', T0 + 4, undefined, 3),
    ];
    for (const order of orders(segs)) {
      const doc = foldLog(order).get(`outbound:${sid}`)!.doc;
      expect(doc.status).toBe('undelivered');
      expect(doc.delivery).toBe('undelivered');
      expect(doc.errorCode).toBe(30007);
    }
  });

  it('a removed participant stays removed, even when its removal arrives before it was added', () => {
    const removed = participantRemoved(sms, T0 + 50, T0 + 2);
    const added = participantAdded(sms, T0 + 2);
    const updated = conv('onParticipantUpdated', { ...participantParams(sms), Attributes: '{"x":1}', DateCreated: iso(T0 + 2), DateUpdated: iso(T0 + 60) }, T0 + 60);
    for (const order of [[removed, added, updated], [added, updated, removed], [updated, removed, added]]) {
      const p = participantOf([conversationAdded(T0), ...order], sms.sid);
      expect(p.removed).toBe(true);
      expect(p.address).toBe(sms.address);
    }
  });

  it('attributes are last-writer-wins by the event time, and a field an event lacks is not erased', () => {
    const added = conversationAdded(T0);
    const renamed = conv('onConversationUpdated', { FriendlyName: 'Renamed', Attributes: '{"a":1}', State: 'active', DateCreated: iso(T0), DateUpdated: iso(T0 + 100) }, T0 + 100);
    const older = conv('onConversationUpdated', { FriendlyName: 'Older', DateCreated: iso(T0), DateUpdated: iso(T0 + 50) }, T0 + 50);
    for (const order of [[added, renamed, older], [older, renamed, added], [renamed, older, added]]) {
      const c = view(order).conversation;
      expect(c.friendlyName).toBe('Renamed');
      expect(c.attributes).toBe('{"a":1}');
      // UniqueName only came with onConversationAdded
      expect(c.uniqueName).toBe('sms:+15550000001');
    }
    // two writes of one millisecond: the same winner whichever arrives first
    const a = conv('onConversationUpdated', { FriendlyName: 'A', DateUpdated: iso(T0 + 7) }, T0 + 7);
    const b = conv('onConversationUpdated', { FriendlyName: 'B', DateUpdated: iso(T0 + 7) }, T0 + 7);
    expect(view([added, a, b]).conversation.friendlyName).toBe(view([b, added, a]).conversation.friendlyName);
  });

  it('onDeliveryUpdated before onMessageAdded: the message gets both', () => {
    const events = [conversationAdded(T0), participantAdded(sms, T0 + 1), receipt(1, sms, 'delivered', T0 + 20, T0 + 10), messageAdded(1, agent, T0 + 10)];
    const m = view(events).messages[0]!;
    expect(m).toMatchObject({ sid: messageSid(1), index: 1, author: 'agent1', body: 'body 1', delivery: { [sms.sid]: 'delivered' } });
  });

  it('30003 marks the participant unreachable with lastErrorCode; the latest such code is kept; other codes do not', () => {
    expect(participantOf(base(), sms.sid)).toMatchObject({ reachable: true, lastErrorCode: null });
    const notChannel = receipt(1, sms, 'failed', T0 + 20, T0 + 10, 30008);
    expect(participantOf([...base(), notChannel], sms.sid)).toMatchObject({ reachable: true, lastErrorCode: null });
    const first = receipt(1, sms, 'undelivered', T0 + 20, T0 + 10, 30003);
    expect(participantOf([...base(), first], sms.sid)).toMatchObject({ reachable: false, lastErrorCode: 30003 });
    const later = receipt(2, sms, 'failed', T0 + 90, T0 + 80, 30005);
    for (const order of orders([first, later])) expect(participantOf([...base(), ...order], sms.sid)).toMatchObject({ reachable: false, lastErrorCode: 30005 });
    // a later success does not make it reachable again
    expect(participantOf([...base(), first, receipt(3, sms, 'read', T0 + 200, T0 + 150)], sms.sid).reachable).toBe(false);
  });

  it('a Messaging status callback failing with 21610 makes the contact, and so the participant, unreachable', () => {
    const cb = statusCallback('SM00000000000000000000000000000007', sms.address!, 'failed', T0 + 500, 21610);
    const state = foldLog([...base(), cb]);
    expect(state.get(`contact:${sms.address}`)!.doc).toMatchObject({ reachable: false, lastErrorCode: 21610 });
    expect(participantOf([...base(), cb], sms.sid)).toMatchObject({ reachable: false, lastErrorCode: 21610 });
    expect(participantOf([...base(), cb], wa.sid)).toMatchObject({ reachable: true });
  });

  it('STOP then START: not suppressed, whichever arrives first; START then STOP: suppressed', () => {
    const stop = suppression('suppressionAdded', sms.address!, PROXY, T0 + 100, { Reason: 'keyword', Keyword: 'STOP' });
    const start = suppression('suppressionLifted', sms.address!, PROXY, T0 + 200, { Keyword: 'START' });
    for (const order of orders([stop, start])) {
      const state = foldLog([...base(), ...order]);
      expect(isSuppressed(state.values(), sms.address!, PROXY)).toBe(false);
      expect(participantOf([...base(), ...order], sms.sid).suppressed).toBe(false);
    }
    const stopAgain = suppression('suppressionAdded', sms.address!, PROXY, T0 + 300, { Reason: '21610' });
    for (const order of [[stop, start, stopAgain], [stopAgain, start, stop]]) {
      const state = foldLog([...base(), ...order]);
      expect(isSuppressed(state.values(), sms.address!, PROXY)).toBe(true);
      expect(suppressionView(state.get(`suppression:${PROXY}|${sms.address}`)!)).toEqual({ address: sms.address, sender: PROXY, suppressed: true, reason: '21610', since: T0 + 300 });
      expect(participantOf([...base(), ...order], sms.sid).suppressed).toBe(true);
      // per sender: another number is not suppressed
      expect(isSuppressed(state.values(), sms.address!, '+15551112222')).toBe(false);
    }
  });

  it('a suppression for the conversation\'s Messaging Service suppresses its participant too', () => {
    const stop = suppression('suppressionAdded', sms.address!, MG, T0 + 100, { Reason: 'keyword' });
    expect(participantOf([...base(), stop], sms.sid).suppressed).toBe(true);
    expect(participantOf([...base(), stop], wa.sid).suppressed).toBe(false);
  });

  it('lastInboundAt: the latest inbound SMS/WhatsApp message from the participant, or Messaging inbound to its proxy', () => {
    const first = messageAdded(2, wa, T0 + 1000);
    const second = messageAdded(3, wa, T0 + 5000);
    for (const order of orders([first, second])) expect(participantOf([...base(), ...order], wa.sid).lastInboundAt).toBe(T0 + 5000);
    // an agent's message is not inbound
    expect(participantOf(base(), agent.sid).lastInboundAt).toBeNull();
    const viaMessaging = inbound(sms.address!, PROXY, 'hi', T0 + 9000);
    expect(participantOf([...base(), viaMessaging], sms.sid).lastInboundAt).toBe(T0 + 9000);
    // to another sender: not this participant's window
    expect(participantOf([...base(), inbound(sms.address!, '+15551112222', 'hi', T0 + 9000)], sms.sid).lastInboundAt).toBeNull();
  });

  it('a state change by StateUpdated beats an older conversation update', () => {
    const stateUpdated = conv('onConversationStateUpdated', { StateFrom: 'active', StateTo: 'closed', StateUpdated: iso(T0 + 300) }, T0 + 300);
    const older = conv('onConversationUpdated', { State: 'inactive', DateUpdated: iso(T0 + 200) }, T0 + 200);
    for (const order of orders([stateUpdated, older])) expect(view([conversationAdded(T0), ...order]).conversation.state).toBe('closed');
  });

  it('incremental application equals foldLog, and a duplicate changes nothing', () => {
    const events = scenario({
      channels: ['chat', 'sms', 'whatsapp', 'sms'],
      messages: [
        { author: 0, steps: [4, 2, 3], fail: [-1, 0, -1], edit: true, remove: false },
        { author: 1, steps: [1], fail: [3], edit: false, remove: true },
      ],
      removeParticipant: 2,
      segments: [{ status: 1, code: 0 }, { status: 3, code: 0 }, { status: 2, code: 0 }],
      suppressions: [{ add: true, at: 3 }, { add: false, at: 9 }],
      unit: 250,
    });
    const folded = foldLog(events);
    expect(serialise(applyIncrementally(events))).toBe(serialise(folded));
    for (const e of events) expect(applyEvent(folded, e)).toEqual([]);
    // a new receipt changes exactly its message (and nothing else)
    const changed = applyEvent(folded, receipt(1, person(3, 'whatsapp'), 'read', T0 + 99_999, T0));
    expect(changed.map(entityKey)).toEqual([`message:${messageSid(1)}`]);
  });

  it('touchedEntities names every doc applyEvent returns; view is undefined without a conversation doc', () => {
    const e = receipt(1, sms, 'failed', T0 + 20, T0 + 10, 30003);
    expect(touchedEntities(e).map(entityKey).sort()).toEqual([`message:${messageSid(1)}`, `participant:${sms.sid}`]);
    expect(applyEvent(new Map(), e).map(entityKey).sort()).toEqual([`message:${messageSid(1)}`, `participant:${sms.sid}`]);
    expect(conversationView([...foldLog([e]).values()], [])).toBeUndefined();
    expect(touchedEntities(event('router', 'reply', { Address: 'x', Sender: 'y', Kind: 'help' }, T0))).toEqual([]);
  });

  it('an agent message writes only its message doc (the conversation doc is not rewritten per message)', () => {
    const state = foldLog(base());
    expect(state.get(`conversation:${CH}`)!.doc.messagingServiceSid).toBe(MG);
    expect(applyEvent(state, messageAdded(2, agent, T0 + 500)).map(entityKey)).toEqual([`message:${messageSid(2)}`]);
    // an inbound one also moves the author's window
    expect(applyEvent(state, messageAdded(3, sms, T0 + 600)).map(entityKey).sort()).toEqual([`conversation:${CH}`, `message:${messageSid(3)}`, `participant:${sms.sid}`]);
  });

  it('docs keep conversationSid and plain fields the store reads (doc.uniqueName)', () => {
    const state = foldLog(base());
    const c = state.get(`conversation:${CH}`)!;
    expect(c.conversationSid).toBe(CH);
    expect(c.doc.uniqueName).toBe('sms:+15550000001');
    expect(state.get(`participant:${sms.sid}`)!.conversationSid).toBe(CH);
    expect(state.get(`message:${messageSid(1)}`)!.conversationSid).toBe(CH);
  });
});
