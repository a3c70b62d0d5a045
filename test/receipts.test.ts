import { describe, expect, it } from 'vitest';
import { addReceipts as addShared, type ReceiptStatus } from './support/receipts.js';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const conversations = () => t.client.conversations.v1.conversations;
const PROXY = '+15555550199';

type Status = ReceiptStatus;

const addReceipts = (messageSid: string, receipts: { participantSid: string; status: Status; errorCode?: number }[], total?: number) =>
  addShared(t.emulator, messageSid, receipts, total);

function setStatus(receiptSid: string, status: Status, errorCode: number | null = null) {
  t.emulator.core.db.run('UPDATE receipts SET status = ?, error_code = ? WHERE sid = ?', status, errorCode, receiptSid);
}

/** A conversation with `n` SMS participants and one message to them (under a service when given). */
async function smsConversation(n: number, service?: string) {
  const list = service
    ? (t.client.conversations.v1.services(service).conversations as unknown as ReturnType<typeof conversations>)
    : conversations();
  const c = await list.create({ friendlyName: 'sms' });
  const participants: string[] = [];
  for (let i = 0; i < n; i++) {
    // a manual handset keeps its messages queued: the receipts below are the test's own, not the channel's
    const handset = await t.http('PUT', `/_emulator/handsets/${encodeURIComponent(`+1555555010${i}`)}`, {
      auth: null,
      contentType: 'application/json',
      body: JSON.stringify({ progression: 'manual' }),
    });
    expect(handset.status).toBe(200);
    const p = await list(c.sid).participants.create({
      'messagingBinding.address': `+1555555010${i}`,
      'messagingBinding.proxyAddress': PROXY,
    });
    participants.push(p.sid);
  }
  const m = await list(c.sid).messages.create({ body: 'hello everyone' });
  return { conversation: c.sid, message: m.sid, participants, messages: conversations()(c.sid).messages };
}

describe('Delivery receipts: list and fetch', () => {
  it('lists and fetches receipts with Twilio fields and DY SIDs', async () => {
    const s = await smsConversation(2);
    const [first, second] = addReceipts(s.message, [
      { participantSid: s.participants[0], status: 'delivered' },
      { participantSid: s.participants[1], status: 'sent' },
    ]);
    const listed = await s.messages(s.message).deliveryReceipts.list();
    expect(listed.map((r) => r.sid)).toEqual([first, second]);
    const r = listed[0];
    expect(r.sid).toMatch(SID.receipt);
    expect(r.accountSid).toBe(t.emulator.accountSid);
    expect(r.conversationSid).toBe(s.conversation);
    expect(r.messageSid).toBe(s.message);
    expect(r.participantSid).toBe(s.participants[0]);
    expect(r.channelMessageSid).toBe('SM' + '0'.repeat(31) + '1');
    expect(r.status).toBe('delivered');
    expect(listed[1].status).toBe('sent');
    expect(r.url).toBe(`${t.emulator.url}/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts/${first}`);

    const fetched = await s.messages(s.message).deliveryReceipts(second).fetch();
    expect(fetched.sid).toBe(second);
    expect(fetched.participantSid).toBe(s.participants[1]);
    expect(fetched.status).toBe('sent');

    const raw = await t.http('GET', `/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts/${first}`);
    expect(raw.status).toBe(200);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.sid).toBe(first);
    expect(raw.body.status).toBe('delivered');
  });

  it('sends error_code null while a receipt has not failed (real Twilio does, although the spec says integer)', async () => {
    const s = await smsConversation(2);
    const [ok, bad] = addReceipts(s.message, [
      { participantSid: s.participants[0], status: 'sent' },
      { participantSid: s.participants[1], status: 'failed', errorCode: 30003 },
    ]);
    const base = `/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts`;
    const good = await t.http('GET', `${base}/${ok}`);
    expect(good.body).toHaveProperty('error_code', null);
    const failed = await t.http('GET', `${base}/${bad}`);
    expect(failed.body.error_code).toBe(30003);
    expect(failed.body.status).toBe('failed');
    expect((await s.messages(s.message).deliveryReceipts(ok).fetch()).errorCode).toBeNull();
    expect((await s.messages(s.message).deliveryReceipts(bad).fetch()).errorCode).toBe(30003);
  });

  it('pages receipts with meta.key delivery_receipts', async () => {
    const s = await smsConversation(3);
    const sids = addReceipts(s.message, s.participants.map((p) => ({ participantSid: p, status: 'sent' as const })));
    const base = `${t.emulator.url}/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts`;
    const r = await t.http('GET', `/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts?PageSize=2`);
    expect(r.body.delivery_receipts.map((x: any) => x.sid)).toEqual(sids.slice(0, 2));
    expect(r.body.meta).toEqual({
      page: 0,
      page_size: 2,
      first_page_url: `${base}?PageSize=2&Page=0`,
      previous_page_url: null,
      url: `${base}?PageSize=2&Page=0`,
      next_page_url: `${base}?PageSize=2&Page=1&PageToken=PA${sids[1]}`,
      key: 'delivery_receipts',
    });
    expect((await s.messages(s.message).deliveryReceipts.list({ pageSize: 1 })).map((x) => x.sid)).toEqual(sids);
  });

  it('lists no receipts for a chat-only message', async () => {
    const c = await conversations().create({});
    const m = await conversations()(c.sid).messages.create({ body: 'chat' });
    expect(await conversations()(c.sid).messages(m.sid).deliveryReceipts.list()).toEqual([]);
  });

  it('serves receipts under /Services/{IS} too, with chat_service_sid', async () => {
    const service = await t.client.conversations.v1.services.create({ friendlyName: 'receipts' });
    const s = await smsConversation(1, service.sid);
    const [dy] = addReceipts(s.message, [{ participantSid: s.participants[0], status: 'read' }]);
    const scoped = t.client.conversations.v1.services(service.sid).conversations(s.conversation).messages(s.message);
    const listed = await scoped.deliveryReceipts.list();
    expect(listed.map((r) => r.sid)).toEqual([dy]);
    expect(listed[0].chatServiceSid).toBe(service.sid);
    expect(listed[0].url).toBe(
      `${t.emulator.url}/v1/Services/${service.sid}/Conversations/${s.conversation}/Messages/${s.message}/Receipts/${dy}`,
    );
    const fetched = await scoped.deliveryReceipts(dy).fetch();
    expect(fetched.status).toBe('read');
    expect((await scoped.fetch()).delivery).toEqual({ total: 1, sent: 'all', delivered: 'all', read: 'all', failed: 'none', undelivered: 'none' });
    // not reachable through the default service
    await expectTwilioError(conversations()(s.conversation).messages(s.message).deliveryReceipts(dy).fetch(), 404, 20404);
  });
});

describe('Delivery receipts: errors', () => {
  it('answers 404/20404 for an unknown receipt, a receipt of another message, or an unknown message', async () => {
    const s = await smsConversation(1);
    const other = await s.messages.create({ body: 'second' });
    const [dy] = addReceipts(s.message, [{ participantSid: s.participants[0], status: 'sent' }]);
    await expectTwilioError(s.messages(s.message).deliveryReceipts('DY' + '0'.repeat(32)).fetch(), 404, 20404);
    await expectTwilioError(s.messages(other.sid).deliveryReceipts(dy).fetch(), 404, 20404);
    await expectTwilioError(s.messages('IM' + '0'.repeat(32)).deliveryReceipts.list(), 404, 20404);
    await expectTwilioError(s.messages('IM' + '0'.repeat(32)).deliveryReceipts(dy).fetch(), 404, 20404);
  });

  it('cannot create receipts over REST', async () => {
    const s = await smsConversation(1);
    const r = await t.http('POST', `/v1/Conversations/${s.conversation}/Messages/${s.message}/Receipts`, { form: { Status: 'read' } });
    // Twilio answers 405/20004 for a method a path lacks.
    expect({ status: r.status, code: r.body.code }).toEqual({ status: 405, code: 20004 });
    expect(await s.messages(s.message).deliveryReceipts.list()).toEqual([]);
  });

  it('deletes a message with its receipts', async () => {
    const s = await smsConversation(1);
    const [dy] = addReceipts(s.message, [{ participantSid: s.participants[0], status: 'sent' }]);
    await s.messages(s.message).remove();
    expect(t.emulator.core.db.get('SELECT 1 FROM receipts WHERE sid = ?', dy)).toBeUndefined();
    await expectTwilioError(s.messages(s.message).deliveryReceipts(dy).fetch(), 404, 20404);
  });
});

describe('Message delivery summary', () => {
  async function delivery(s: { messages: ReturnType<ReturnType<typeof conversations>>['messages']; message: string }) {
    return (await s.messages(s.message).fetch()).delivery;
  }

  it('summarises receipts as all/some/none: read implies delivered implies sent', async () => {
    const s = await smsConversation(2);
    const [a, b] = addReceipts(s.message, [
      { participantSid: s.participants[0], status: 'sent' },
      { participantSid: s.participants[1], status: 'sent' },
    ]);
    const summary = (sent: string, delivered: string, read: string, failed = 'none', undelivered = 'none') => ({
      total: 2, sent, delivered, read, failed, undelivered,
    });
    expect(await delivery(s)).toEqual(summary('all', 'none', 'none'));
    setStatus(a, 'delivered');
    expect(await delivery(s)).toEqual(summary('all', 'some', 'none'));
    setStatus(b, 'read');
    expect(await delivery(s)).toEqual(summary('all', 'all', 'some'));
    setStatus(a, 'read');
    expect(await delivery(s)).toEqual(summary('all', 'all', 'all'));
    setStatus(a, 'failed', 30003);
    expect(await delivery(s)).toEqual(summary('some', 'some', 'some', 'some'));
    setStatus(b, 'undelivered', 30005);
    expect(await delivery(s)).toEqual(summary('none', 'none', 'none', 'some', 'some'));
    setStatus(b, 'failed', 30007);
    expect(await delivery(s)).toEqual(summary('none', 'none', 'none', 'all', 'none'));
    // the list shows the same summary as fetch
    const [listed] = await s.messages.list();
    expect(listed.delivery).toEqual(summary('none', 'none', 'none', 'all', 'none'));
  });

  it('counts recipients whose receipt has not arrived yet as not sent', async () => {
    const s = await smsConversation(3);
    addReceipts(s.message, [{ participantSid: s.participants[0], status: 'delivered' }], 3);
    const raw = await t.http('GET', `/v1/Conversations/${s.conversation}/Messages/${s.message}`);
    expect(raw.body.delivery).toEqual({ total: 3, sent: 'some', delivered: 'some', read: 'none', failed: 'none', undelivered: 'none' });
  });

  it('keeps delivery null while the message has no non-chat recipients', async () => {
    const c = await conversations().create({ friendlyName: 'chat only' });
    await conversations()(c.sid).participants.create({ identity: 'alice' });
    const m = await conversations()(c.sid).messages.create({ author: 'alice', body: 'hi' });
    expect((await conversations()(c.sid).messages(m.sid).fetch()).delivery).toBeNull();
  });
});
