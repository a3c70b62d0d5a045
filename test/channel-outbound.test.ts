/**
 * The simulated SMS / WhatsApp channel, outbound: a conversation message fans out to every SMS/WhatsApp
 * participant other than its author (the outbox), each recipient gets a Receipt once the message leaves, the
 * message's `delivery` summary follows, scripted handsets decide outcome and pace, and every receipt change fires
 * a signed onDeliveryUpdated. Receipts only ever move forward, whatever order the webhooks arrive in.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useEmulator } from './support/emulator.js';
import { useReceiver, type Params } from './support/webhook-receiver.js';

const t = useEmulator({ clock: 'manual' });

const rx = useReceiver(() => t.emulator.authToken);

const PROXY = '+15017122661';
const A = '+15558675310';
const B = '+15558675311';
const WA = 'whatsapp:+15558675312';
const WA_PROXY = `whatsapp:${PROXY}`;
const SM = /^SM[0-9a-f]{32}$/;
const DY = /^DY[0-9a-f]{32}$/;
const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, undelivered: 4, failed: 4 };

const v1 = () => t.client.conversations.v1;
const control = (method: string, path: string, body?: unknown) =>
  t.http(method, `/_emulator${path}`, body === undefined ? { auth: null } : { auth: null, contentType: 'application/json', body: JSON.stringify(body) });

async function handset(address: string, script: Record<string, unknown>) {
  const r = await control('PUT', `/handsets/${encodeURIComponent(address)}`, script);
  expect(r.status).toBe(200);
  return r.body;
}

async function outbox(conversationSid: string) {
  const r = await control('GET', `/outbox?conversationSid=${conversationSid}`);
  expect(r.status).toBe(200);
  return r.body.messages as { sid: string; to: string; from: string; body: string; channel: string; status: string; errorCode: number | null; messageSid: string; direction: string; dateSent: string | null }[];
}

/** a conversation with these SMS/WhatsApp addresses (proxy picked by channel) and a chat participant `alice` */
async function conversationWith(...addresses: string[]) {
  const c = await v1().conversations.create({ friendlyName: 'channel' });
  const participants: Record<string, string> = {};
  for (const address of addresses) {
    const proxy = address.startsWith('whatsapp:') ? WA_PROXY : PROXY;
    const p = await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
    participants[address] = p.sid;
  }
  const alice = await v1().conversations(c.sid).participants.create({ identity: 'alice' });
  return { sid: c.sid, participants, alice: alice.sid, messages: v1().conversations(c.sid).messages };
}

const receiptsOf = (c: { sid: string }, messageSid: string) => v1().conversations(c.sid).messages(messageSid).deliveryReceipts.list();

const summary = (over: Record<string, unknown>) => ({ sent: 'none', delivered: 'none', read: 'none', failed: 'none', undelivered: 'none', ...over });

/** open the WhatsApp 24-hour window for this handset */
async function handsetWrites(from: string, to: string, body = 'hi') {
  const r = await control('POST', '/inbound', { From: from, To: to, Body: body });
  expect(r.status).toBe(201);
  return r.body;
}

/** wait until `n` onDeliveryUpdated webhooks for this message reached the consumer; return their fields in arrival order */
async function deliveryWebhooks(messageSid: string, n: number): Promise<Params[]> {
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const d = await t.emulator.control.waitForDelivery(
      (x) => x.state === 'delivered' && x.eventType === 'onDeliveryUpdated' && x.params.MessageSid === messageSid && !seen.has(x.id),
      8000,
    );
    seen.add(d.id);
  }
  const got = rx.requests.filter((r) => r.params.EventType === 'onDeliveryUpdated' && r.params.MessageSid === messageSid);
  expect(got).toHaveLength(n);
  expect(got.every((r) => r.signatureValid)).toBe(true);
  return got.map((r) => r.params);
}

const hookOnDelivery = () =>
  v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onDeliveryUpdated'], method: 'POST' });

describe('fan-out', () => {
  it('sends to each SMS participant (not chat), with receipts and a delivery summary', async () => {
    const c = await conversationWith(A, B);
    const m = await c.messages.create({ author: 'alice', body: 'hello phones' });
    const box = await outbox(c.sid);
    expect(box.map((x) => x.to)).toEqual([A, B]);
    for (const x of box) {
      expect(x).toMatchObject({ from: PROXY, body: 'hello phones', channel: 'sms', status: 'delivered', errorCode: null, messageSid: m.sid, direction: 'outbound-api' });
      expect(x.sid).toMatch(SM);
    }
    const receipts = await receiptsOf(c, m.sid);
    expect(receipts).toHaveLength(2);
    expect(receipts.map((r) => r.participantSid).sort()).toEqual([c.participants[A], c.participants[B]].sort());
    for (const r of receipts) {
      expect(r.sid).toMatch(DY);
      expect(r.status).toBe('delivered');
      expect(r.errorCode).toBeNull();
      expect(r.messageSid).toBe(m.sid);
      const sent = box.find((x) => x.sid === r.channelMessageSid);
      expect(sent?.to).toBe(r.participantSid === c.participants[A] ? A : B);
    }
    const fetched = await c.messages(m.sid).fetch();
    expect(fetched.delivery).toEqual(summary({ total: 2, sent: 'all', delivered: 'all' }));
  });

  it("does not echo a participant's own message back to its handset", async () => {
    const c = await conversationWith(A, B);
    const inbound = await handsetWrites(A, PROXY, 'from A');
    expect(inbound).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
    const fromB = await c.messages.create({ author: B, body: 'as B' });
    const box = await outbox(c.sid);
    expect(box.filter((x) => x.messageSid === inbound.messageSid).map((x) => x.to)).toEqual([B]);
    expect(box.filter((x) => x.messageSid === fromB.sid).map((x) => x.to)).toEqual([A]);
    expect((await c.messages(inbound.messageSid).fetch()).delivery).toEqual(summary({ total: 1, sent: 'all', delivered: 'all' }));
    expect(await receiptsOf(c, fromB.sid)).toHaveLength(1);
  });

  it('a chat-only conversation has no outbox, no receipts and delivery null', async () => {
    const c = await conversationWith();
    const m = await c.messages.create({ author: 'alice', body: 'chat only' });
    expect(await outbox(c.sid)).toEqual([]);
    expect(await receiptsOf(c, m.sid)).toEqual([]);
    expect((await c.messages(m.sid).fetch()).delivery).toBeNull();
  });
});

describe('handset outcomes', () => {
  it('WhatsApp reads when the handset reads; SMS never does', async () => {
    const c = await conversationWith(A, WA);
    await handset(WA, { read: true });
    await handset(A, { read: true });
    await handsetWrites(WA, WA_PROXY);
    const m = await c.messages.create({ author: 'alice', body: 'read me' });
    const byParticipant = Object.fromEntries((await receiptsOf(c, m.sid)).map((r) => [r.participantSid, r.status]));
    expect(byParticipant).toEqual({ [c.participants[WA]]: 'read', [c.participants[A]]: 'delivered' });
    expect((await c.messages(m.sid).fetch()).delivery).toEqual(summary({ total: 2, sent: 'all', delivered: 'all', read: 'some' }));
    const box = await outbox(c.sid);
    expect(box.find((x) => x.to === WA)).toMatchObject({ channel: 'whatsapp', from: WA_PROXY, status: 'read' });
    expect(box.find((x) => x.to === WA)?.sid).toMatch(/^SM[0-9a-f]{32}$/);

    const only = await conversationWith('whatsapp:+15558675399');
    await handset('whatsapp:+15558675399', { read: true });
    await handsetWrites('whatsapp:+15558675399', WA_PROXY);
    const m2 = await only.messages.create({ author: 'alice', body: 'read me too' });
    expect((await only.messages(m2.sid).fetch()).delivery).toEqual(summary({ total: 1, sent: 'all', delivered: 'all', read: 'all' }));
  });

  it('undelivered and failed handsets carry their error codes', async () => {
    const C = '+15558675313';
    const c = await conversationWith(A, B, C);
    expect(await handset(B, { outcome: 'undelivered', errorCode: 30003 })).toMatchObject({ outcome: 'undelivered', errorCode: 30003 });
    await handset(C, { outcome: 'failed', errorCode: 30006 });
    const m = await c.messages.create({ author: 'alice', body: 'some will not arrive' });
    const receipts = await receiptsOf(c, m.sid);
    const of = (address: string) => receipts.find((r) => r.participantSid === c.participants[address]);
    expect(of(A)).toMatchObject({ status: 'delivered', errorCode: null });
    expect(of(B)).toMatchObject({ status: 'undelivered', errorCode: 30003 });
    expect(of(C)).toMatchObject({ status: 'failed', errorCode: 30006 });
    expect((await c.messages(m.sid).fetch()).delivery).toEqual({ total: 3, sent: 'some', delivered: 'some', read: 'none', failed: 'some', undelivered: 'some' });
    const box = await outbox(c.sid);
    expect(box.map((x) => [x.to, x.status, x.errorCode])).toEqual([[A, 'delivered', null], [B, 'undelivered', 30003], [C, 'failed', 30006]]);
    // a failed message never left; an undelivered one did
    expect(box.map((x) => x.dateSent === null)).toEqual([false, false, true]);
    expect(box[0].dateSent).toBe(t.emulator.clock.now().toISOString());
  });
});

describe('pace', () => {
  it('afterSeconds moves one step per interval of the emulator clock', async () => {
    const c = await conversationWith(A);
    await handset(A, { progression: { afterSeconds: 60 } });
    const m = await c.messages.create({ author: 'alice', body: 'slow' });
    expect((await outbox(c.sid))[0].status).toBe('queued');
    expect(await receiptsOf(c, m.sid)).toEqual([]);
    expect((await c.messages(m.sid).fetch()).delivery).toEqual(summary({ total: 1 }));

    t.emulator.clock.advance(59);
    expect(await receiptsOf(c, m.sid)).toEqual([]);
    t.emulator.clock.advance(1);
    const [sent] = await receiptsOf(c, m.sid);
    expect(sent.status).toBe('sent');
    expect((await c.messages(m.sid).fetch()).delivery).toEqual(summary({ total: 1, sent: 'all' }));

    t.emulator.clock.advance(60);
    const [delivered] = await receiptsOf(c, m.sid);
    expect(delivered).toMatchObject({ sid: sent.sid, status: 'delivered' });
    t.emulator.clock.advance(3600);
    expect((await receiptsOf(c, m.sid))[0].status).toBe('delivered');
    expect((await outbox(c.sid))[0].status).toBe('delivered');
  });

  it('a long clock jump passes several steps at once', async () => {
    const c = await conversationWith(A, WA);
    await handsetWrites(WA, WA_PROXY);
    await handset(A, { progression: { afterSeconds: 60 } });
    await handset(WA, { progression: { afterSeconds: 60 }, read: true });
    const m = await c.messages.create({ author: 'alice', body: 'jump' });
    t.emulator.clock.advance(120);
    const statuses = async () => Object.fromEntries((await receiptsOf(c, m.sid)).map((r) => [r.participantSid, r.status]));
    expect(await statuses()).toEqual({ [c.participants[A]]: 'delivered', [c.participants[WA]]: 'delivered' });
    t.emulator.clock.advance(600);
    expect(await statuses()).toEqual({ [c.participants[A]]: 'delivered', [c.participants[WA]]: 'read' });
  });

  it("manual: each /advance moves one step and returns the receipts it moved", async () => {
    const c = await conversationWith(A, WA);
    // the handset's inbound opens the WhatsApp window (and reaches A at once, before A turns manual)
    await handsetWrites(WA, WA_PROXY);
    await handset(A, { progression: 'manual' });
    await handset(WA, { progression: 'manual', read: true });
    const m = await c.messages.create({ author: 'alice', body: 'step by step' });
    expect(await receiptsOf(c, m.sid)).toEqual([]);
    t.emulator.clock.advance(3600);
    expect(await receiptsOf(c, m.sid)).toEqual([]);

    const step = async (address: string) => {
      const r = await control('POST', `/handsets/${encodeURIComponent(address)}/advance`);
      expect(r.status).toBe(200);
      return r.body.receipts as { sid: string; status: string; messageSid: string; participantSid: string; channelMessageSid: string; errorCode: number | null }[];
    };
    const first = await step(A);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: 'sent', messageSid: m.sid, participantSid: c.participants[A], errorCode: null });
    expect(first[0].sid).toMatch(DY);
    expect(first[0].channelMessageSid).toMatch(SM);
    expect((await receiptsOf(c, m.sid)).map((r) => r.status)).toEqual(['sent']);
    expect(await step(A)).toMatchObject([{ sid: first[0].sid, status: 'delivered' }]);
    expect(await step(A)).toEqual([]);

    expect((await step(WA)).map((r) => r.status)).toEqual(['sent']);
    expect((await step(WA)).map((r) => r.status)).toEqual(['delivered']);
    expect((await step(WA)).map((r) => r.status)).toEqual(['read']);
    expect(await step(WA)).toEqual([]);
    expect((await c.messages(m.sid).fetch()).delivery).toEqual(summary({ total: 2, sent: 'all', delivered: 'all', read: 'some' }));
  });
});

describe('onDeliveryUpdated', () => {
  it('fires, signed, for every status change in order sent → delivered', async () => {
    await hookOnDelivery();
    const c = await conversationWith(A);
    await handset(A, { progression: 'manual' });
    const m = await c.messages.create({ author: 'alice', body: 'watch me' });
    await control('POST', `/handsets/${encodeURIComponent(A)}/advance`);
    await control('POST', `/handsets/${encodeURIComponent(A)}/advance`);
    const [receipt] = await receiptsOf(c, m.sid);
    const hooks = await deliveryWebhooks(m.sid, 2);
    expect(hooks.map((h) => h.Status)).toEqual(['sent', 'delivered']);
    for (const h of hooks) {
      expect(h).toMatchObject({
        AccountSid: t.emulator.accountSid,
        EventType: 'onDeliveryUpdated',
        Source: 'SMS',
        ConversationSid: c.sid,
        ChatServiceSid: t.emulator.defaultServiceSid,
        MessageSid: m.sid,
        DeliveryReceiptSid: receipt.sid,
        ChannelMessageSid: receipt.channelMessageSid,
        ParticipantSid: c.participants[A],
      });
      expect(h).not.toHaveProperty('ErrorCode');
    }
  });

  it('WhatsApp: ChannelMessageSid stays SM (the 2010 spec allows only SM/MM, and it is a 2010 Message), DateUpdated on the first status, Source WHATSAPP', async () => {
    await hookOnDelivery();
    const c = await conversationWith(WA);
    await handsetWrites(WA, WA_PROXY);
    await handset(WA, { progression: 'manual' });
    const m = await c.messages.create({ author: 'alice', body: 'over whatsapp' });
    await control('POST', `/handsets/${encodeURIComponent(WA)}/advance`);
    const [receipt] = await receiptsOf(c, m.sid);
    // REST keeps date_updated null until the receipt moves on
    expect(receipt).toMatchObject({ status: 'sent', dateUpdated: null });
    const [first] = await deliveryWebhooks(m.sid, 1);
    expect(first).toMatchObject({ Status: 'sent', Source: 'WHATSAPP', ChannelMessageSid: receipt.channelMessageSid, ParticipantSid: c.participants[WA] });
    expect(first.DateUpdated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first.DateUpdated).toBe(first.DateCreated);

    // Twilio's docs say WAxx for WhatsApp, but the same channel message is a 2010 Message, whose SID pattern forbids it
    const spec = JSON.parse(readFileSync(new URL('../fixtures/openapi/twilio_api_v2010.json', import.meta.url), 'utf8'));
    const pattern = new RegExp(spec.components.schemas['api.v2010.account.message'].properties.sid.pattern);
    expect(pattern.test('WA' + 'a'.repeat(32))).toBe(false);
    expect(receipt.channelMessageSid).toMatch(SM);
    const message = await t.client.messages(receipt.channelMessageSid).fetch();
    expect(pattern.test(message.sid)).toBe(true);
    expect(message).toMatchObject({ to: WA, from: WA_PROXY, body: 'over whatsapp' });
  });

  it('carries ErrorCode for an undelivered handset (sent, then undelivered)', async () => {
    await hookOnDelivery();
    const c = await conversationWith(A);
    await handset(A, { outcome: 'undelivered', errorCode: 30003 });
    const m = await c.messages.create({ author: 'alice', body: 'lost' });
    const hooks = await deliveryWebhooks(m.sid, 2);
    expect(hooks.map((h) => [h.Status, h.ErrorCode])).toEqual([['sent', undefined], ['undelivered', '30003']]);
    expect(hooks[1].ParticipantSid).toBe(c.participants[A]);
  });

  it('receipts never go backwards, even when the webhooks are reordered', async () => {
    await hookOnDelivery();
    const faults = await control('PUT', '/faults/webhooks', { rules: [{ match: { eventType: 'onDeliveryUpdated' }, action: { type: 'reorder', window: 3, ms: 5000 } }] });
    expect(faults.status).toBe(200);
    const c = await conversationWith(WA);
    await handset(WA, { progression: 'manual', read: true });
    await handsetWrites(WA, WA_PROXY);
    const m = await c.messages.create({ author: 'alice', body: 'in order' });
    const ranks: number[] = [];
    for (let i = 0; i < 3; i++) {
      await control('POST', `/handsets/${encodeURIComponent(WA)}/advance`);
      const [r] = await receiptsOf(c, m.sid);
      ranks.push(RANK[r.status]);
    }
    expect(ranks).toEqual([1, 2, 3]);
    // the handset now fails: nothing moves back
    await handset(WA, { progression: 'manual', outcome: 'failed', errorCode: 30006 });
    expect((await control('POST', `/handsets/${encodeURIComponent(WA)}/advance`)).body.receipts).toEqual([]);

    const hooks = await deliveryWebhooks(m.sid, 3);
    expect(hooks.map((h) => h.Status).sort()).toEqual(['delivered', 'read', 'sent']);
    expect(t.emulator.control.deliveries({ eventType: 'onDeliveryUpdated' }).every((d) => d.state === 'delivered')).toBe(true);
    const [after] = await receiptsOf(c, m.sid);
    expect(after).toMatchObject({ status: 'read', errorCode: null });
    expect((await c.messages(m.sid).fetch()).delivery).toEqual(summary({ total: 1, sent: 'all', delivered: 'all', read: 'all' }));
  });
});
