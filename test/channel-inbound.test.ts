/**
 * The simulated SMS / WhatsApp channel, inbound: a handset writes (`POST /_emulator/inbound`) and the message is
 * routed as Twilio routes it (the conversation holding that address/proxy pair, an address configuration that
 * auto-creates one, or plain Messaging). SMS keywords opt the handset out of a sender (21610 on later receipts)
 * and back in; WhatsApp freeform messages need the handset to have written within 24 hours (63016).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPLIES } from '../src/emulator/channel/keywords.js';
import { useEmulator } from './support/emulator.js';
import { useReceiver, type Params } from './support/webhook-receiver.js';

const t = useEmulator({ clock: 'manual' });

const rx = useReceiver(() => t.emulator.authToken);

const PROXY = '+15017122661';
const PROXY2 = '+15017122662';
const A = '+15558675310';
const B = '+15558675311';
const WA = 'whatsapp:+15558675312';
const WA_PROXY = `whatsapp:${PROXY}`;
const SM = /^SM[0-9a-f]{32}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

const v1 = () => t.client.conversations.v1;
const control = (method: string, path: string, body?: unknown) =>
  t.http(method, `/_emulator${path}`, body === undefined ? { auth: null } : { auth: null, contentType: 'application/json', body: JSON.stringify(body) });
const inbound = (From: string, To: string, Body: string) => control('POST', '/inbound', { From, To, Body });
const outboxTo = async (to: string) => (await control('GET', `/outbox?to=${encodeURIComponent(to)}`)).body.messages as { to: string; from: string; body: string; status: string; errorCode: number | null; direction: string; messageSid: string | null }[];
const optOuts = async () => (await control('GET', '/opt-outs')).body.optOuts as { address: string; sender: string; since: string }[];

async function conversationWith(address: string, proxy: string) {
  const c = await v1().conversations.create({ friendlyName: 'inbound' });
  const p = await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
  await v1().conversations(c.sid).participants.create({ identity: 'alice' });
  return { sid: c.sid, participant: p.sid, messages: v1().conversations(c.sid).messages };
}

/** the next finished onMessageAdded delivery for this message, as the consumer received it */
async function messageAdded(messageSid: string): Promise<Params> {
  const d = await t.emulator.control.waitForDelivery((x) => x.state === 'delivered' && x.eventType === 'onMessageAdded' && x.params.MessageSid === messageSid, 5000);
  const r = rx.requests.find((q) => q.idempotencyToken === d.idempotencyToken);
  expect(r?.signatureValid).toBe(true);
  return r!.params;
}

/** send from alice and return the one receipt */
async function sendTo(c: Awaited<ReturnType<typeof conversationWith>>, options: { body?: string; contentSid?: string } = { body: 'hello' }) {
  const m = await c.messages.create({ author: 'alice', ...options });
  const receipts = await c.messages(m.sid).deliveryReceipts.list();
  expect(receipts).toHaveLength(1);
  return { message: m, receipt: receipts[0], delivery: (await c.messages(m.sid).fetch()).delivery };
}

describe('routing', () => {
  it('routes to the conversation holding the address/proxy pair (JSON and form), firing onMessageAdded with Source SMS (a recorded real payload says SMS; the docs list only SDK|API: real Twilio wins)', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
    const c = await conversationWith(A, PROXY);
    const r = await inbound(A, PROXY, 'hello from the phone');
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ routedTo: 'conversation', conversationSid: c.sid, messageSid: expect.stringMatching(/^IM[0-9a-f]{32}$/), channelMessageSid: expect.stringMatching(SM) });
    const m = await c.messages(r.body.messageSid).fetch();
    expect(m).toMatchObject({ author: A, body: 'hello from the phone', participantSid: c.participant, conversationSid: c.sid });
    const hook = await messageAdded(m.sid);
    expect(hook).toMatchObject({ EventType: 'onMessageAdded', Source: 'SMS', Author: A, Body: 'hello from the phone', ParticipantSid: c.participant, ConversationSid: c.sid });

    const form = await t.http('POST', '/_emulator/inbound', { auth: null, form: { From: A, To: PROXY, Body: 'form encoded' } });
    expect(form.status).toBe(201);
    expect(form.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
    expect((await c.messages.list()).map((x) => [x.author, x.body])).toEqual([[A, 'hello from the phone'], [A, 'form encoded']]);
    expect((await messageAdded(form.body.messageSid)).Source).toBe('SMS');
    // the handset's own words are not sent back to it
    expect(await outboxTo(A)).toEqual([]);
  });

  it('auto-creates a conversation from an address configuration, with the participant and a scoped webhook', async () => {
    const config = await v1().addressConfigurations.create({
      type: 'sms',
      address: PROXY2,
      'autoCreation.enabled': true,
      'autoCreation.type': 'webhook',
      'autoCreation.webhookUrl': rx.url('/auto'),
      'autoCreation.webhookFilters': ['onMessageAdded'],
    });
    expect(config.sid).toMatch(/^IG[0-9a-f]{32}$/);
    const r = await inbound(B, PROXY2, 'new here');
    expect(r.status).toBe(201);
    expect(r.body.routedTo).toBe('autocreated');
    const sid = r.body.conversationSid as string;
    expect(sid).toMatch(/^CH[0-9a-f]{32}$/);
    const participants = await v1().conversations(sid).participants.list();
    expect(participants.map((p) => p.messagingBinding)).toEqual([{ type: 'sms', address: B, proxy_address: PROXY2 }]);
    const hooks = await v1().conversations(sid).webhooks.list();
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ target: 'webhook', configuration: expect.objectContaining({ url: rx.url('/auto'), filters: ['onMessageAdded'] }) });
    const messages = await v1().conversations(sid).messages.list();
    expect(messages.map((m) => [m.sid, m.author, m.body, m.participantSid])).toEqual([[r.body.messageSid, B, 'new here', participants[0].sid]]);
    const hook = await messageAdded(r.body.messageSid);
    expect(hook).toMatchObject({ Source: 'SMS', ConversationSid: sid, WebhookSid: hooks[0].sid, Body: 'new here' });
    expect(rx.requests.find((q) => q.params.MessageSid === r.body.messageSid)?.path).toBe('/auto');

    // the pair now lives in that conversation: the next inbound goes there
    const again = await inbound(B, PROXY2, 'me again');
    expect(again.body).toMatchObject({ routedTo: 'conversation', conversationSid: sid });
    expect(await v1().conversations.list()).toHaveLength(1);
  });

  it('auto-creates in the configured service: WhatsApp with no webhook, studio with a studio webhook', async () => {
    const service = await v1().services.create({ friendlyName: 'support' });
    await v1().addressConfigurations.create({ type: 'whatsapp', address: WA_PROXY, 'autoCreation.enabled': true, 'autoCreation.type': 'default', 'autoCreation.conversationServiceSid': service.sid });
    const r = await inbound(WA, WA_PROXY, 'whatsapp hello');
    expect(r.body.routedTo).toBe('autocreated');
    const conversation = await v1().services(service.sid).conversations(r.body.conversationSid).fetch();
    expect(conversation.chatServiceSid).toBe(service.sid);
    expect(await v1().services(service.sid).conversations(conversation.sid).webhooks.list()).toEqual([]);
    const [p] = await v1().services(service.sid).conversations(conversation.sid).participants.list();
    expect(p.messagingBinding).toEqual({ type: 'whatsapp', address: WA, proxy_address: WA_PROXY });
    const [m] = await v1().services(service.sid).conversations(conversation.sid).messages.list();
    expect(m).toMatchObject({ sid: r.body.messageSid, author: WA, body: 'whatsapp hello', participantSid: p.sid });

    const flow = 'FW' + 'b'.repeat(32);
    await v1().addressConfigurations.create({ type: 'sms', address: PROXY2, 'autoCreation.enabled': true, 'autoCreation.type': 'studio', 'autoCreation.studioFlowSid': flow });
    const studio = await inbound(A, PROXY2, 'to the flow');
    expect(studio.body.routedTo).toBe('autocreated');
    const hooks = await v1().conversations(studio.body.conversationSid).webhooks.list();
    expect(hooks.map((h) => [h.target, h.configuration.flow_sid])).toEqual([['studio', flow]]);
  });

  it('without a conversation or an address configuration it goes to Messaging', async () => {
    const r = await inbound(A, PROXY, 'nobody listens');
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ routedTo: 'messaging', channelMessageSid: expect.stringMatching(SM) });
    expect(await v1().conversations.list()).toEqual([]);
    // a configuration with auto-creation off routes nothing either
    await v1().addressConfigurations.create({ type: 'sms', address: PROXY, 'autoCreation.enabled': false });
    expect((await inbound(A, PROXY, 'still nobody')).body.routedTo).toBe('messaging');
    expect(await v1().conversations.list()).toEqual([]);
  });

  it('routes WhatsApp inbound with Source WHATSAPP', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onMessageAdded'], method: 'POST' });
    const c = await conversationWith(WA, WA_PROXY);
    const r = await inbound(WA, WA_PROXY, 'hola');
    expect(r.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
    // Twilio gives WhatsApp messages Messaging SIDs too (the 2010 Messages list shows them)
    expect(r.body.channelMessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(await c.messages(r.body.messageSid).fetch()).toMatchObject({ author: WA, participantSid: c.participant });
    expect(await messageAdded(r.body.messageSid)).toMatchObject({ Source: 'WHATSAPP', Author: WA });
  });

  it('rejects a missing From or To, and mixed channels, with the error envelope', async () => {
    for (const body of [{ To: PROXY, Body: 'x' }, { From: A, Body: 'x' }, { From: '', To: PROXY }]) {
      const r = await control('POST', '/inbound', body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400, message: expect.stringMatching(/From and To/), more_info: 'https://www.twilio.com/docs/errors/20001' });
    }
    for (const [From, To] of [[WA, PROXY], [A, WA_PROXY]]) {
      const r = await inbound(From, To, 'x');
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400, message: expect.stringMatching(/same channel/) });
    }
    expect(await v1().conversations.list()).toEqual([]);
  });
});

describe('inbound and webhooks', () => {
  const hooks = (filters: string[]) =>
    v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ preWebhookUrl: rx.url('/pre'), postWebhookUrl: rx.url(), filters, method: 'POST' });
  const preRequests = () => rx.requests.filter((r) => r.path === '/pre');
  const channelRows = () => t.emulator.core.db.all("SELECT sid, conversation_sid, message_sid FROM channel_messages WHERE direction = 'inbound'");

  it('an inbound message fires the pre-event onMessageAdd (Source SMS, ParticipantSid, no header needed); a refusal drops it', async () => {
    await hooks(['onMessageAdd', 'onMessageAdded']);
    const c = await conversationWith(A, PROXY);
    rx.respond = (r) => (r.path === '/pre' && r.params.Body === 'spam' ? { status: 403 } : { status: 200 });
    const refused = await inbound(A, PROXY, 'spam');
    expect(refused.status).toBe(201);
    expect(refused.body).toEqual({ routedTo: 'conversation', conversationSid: c.sid, channelMessageSid: expect.stringMatching(SM), refused: true });
    const [ask] = preRequests();
    expect(ask.signatureValid).toBe(true);
    expect(ask.params).toEqual({
      AccountSid: t.emulator.accountSid,
      EventType: 'onMessageAdd',
      Source: 'SMS',
      ConversationSid: c.sid,
      Author: A,
      ParticipantSid: c.participant,
      Body: 'spam',
      Attributes: '{}',
    });
    // dropped: no conversation message, no post-event; the channel still saw the handset's message
    expect(await c.messages.list()).toEqual([]);
    expect(t.emulator.core.db.all('SELECT sid FROM messages')).toEqual([]);
    expect(channelRows()).toEqual([{ sid: refused.body.channelMessageSid, conversation_sid: c.sid, message_sid: null }]);

    const allowed = await inbound(A, PROXY, 'hello');
    expect(allowed.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid, messageSid: expect.stringMatching(/^IM/) });
    expect(allowed.body).not.toHaveProperty('refused');
    expect(await messageAdded(allowed.body.messageSid)).toMatchObject({ Body: 'hello', Source: 'SMS' });
    expect(t.emulator.control.deliveries({ eventType: 'onMessageAdded' }).map((d) => d.params.Body)).toEqual(['hello']);
  });

  it("a pre-event's JSON answer changes the inbound message; an auto-created conversation asks too", async () => {
    await hooks(['onMessageAdd']);
    rx.respond = (r) => (r.path === '/pre' ? { status: 200, body: { body: 'rewritten', attributes: '{"checked":true}' } } : { status: 200 });
    const c = await conversationWith(A, PROXY);
    const r = await inbound(A, PROXY, 'original');
    expect(await c.messages(r.body.messageSid).fetch()).toMatchObject({ body: 'rewritten', attributes: '{"checked":true}', author: A });

    await v1().addressConfigurations.create({ type: 'sms', address: PROXY2, 'autoCreation.enabled': true, 'autoCreation.type': 'default' });
    rx.respond = (q) => (q.path === '/pre' ? { status: 500 } : { status: 200 });
    const auto = await inbound(B, PROXY2, 'first words');
    expect(auto.body).toMatchObject({ routedTo: 'autocreated', refused: true });
    expect(preRequests().at(-1)?.params).toMatchObject({ EventType: 'onMessageAdd', ConversationSid: auto.body.conversationSid, Author: B, Body: 'first words' });
    // the conversation and its participant exist; the refused message does not
    expect((await v1().conversations(auto.body.conversationSid).participants.list()).map((p) => p.messagingBinding.address)).toEqual([B]);
    expect(await v1().conversations(auto.body.conversationSid).messages.list()).toEqual([]);
  });

  it('an inbound MMS (MediaUrl) reaches the conversation as media: REST media, webhook Media', async () => {
    await hooks(['onMessageAdd', 'onMessageAdded']);
    const c = await conversationWith(A, PROXY);
    const r = await control('POST', '/inbound', {
      From: A,
      To: PROXY,
      Body: 'look',
      MediaUrl: ['https://media.example.com/photos/cat%20picture.jpg?size=large', 'https://media.example.com/card'],
      MediaContentType: ['', 'text/vcard'],
    });
    expect(r.status).toBe(201);
    expect(r.body.channelMessageSid).toMatch(/^MM[0-9a-f]{32}$/);
    const m = await c.messages(r.body.messageSid).fetch();
    const ME = expect.stringMatching(/^ME[0-9a-f]{32}$/);
    expect(m.media).toEqual([
      { sid: ME, size: 0, content_type: 'image/jpeg', filename: 'cat picture.jpg', category: 'media' },
      { sid: ME, size: 0, content_type: 'text/vcard', filename: 'card', category: 'media' },
    ]);
    const media = m.media as { sid: string; content_type: string; filename: string }[];
    const webhook = media.map((x) => ({ Sid: x.sid, Filename: x.filename, ContentType: x.content_type, Size: 0, Category: 'media' }));
    expect(JSON.parse(preRequests()[0].params.Media as string)).toEqual(webhook);
    expect(JSON.parse((await messageAdded(m.sid)).Media as string)).toEqual(webhook);

    // form bodies repeat the key
    const form = await t.http('POST', '/_emulator/inbound', { auth: null, form: { From: A, To: PROXY, MediaUrl: ['https://media.example.com/a.png', 'https://media.example.com/b.gif'] } });
    expect(form.status).toBe(201);
    expect(((await c.messages(form.body.messageSid).fetch()).media as { content_type: string }[]).map((x) => x.content_type)).toEqual(['image/png', 'image/gif']);

    const bad = await control('POST', '/inbound', { From: A, To: PROXY, MediaUrl: 'ftp://media.example.com/a.png' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 20001, status: 400, message: expect.stringMatching(/MediaUrl/) });
  });

  it('an inbound message that wakes an inactive conversation fires onConversationStateUpdated, Reason EVENT', async () => {
    await hooks(['onConversationStateUpdated', 'onConversationUpdated']);
    const c = await conversationWith(A, PROXY);
    await v1().conversations(c.sid).update({ state: 'inactive' });
    const r = await inbound(A, PROXY, 'anyone there?');
    expect(r.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
    expect((await v1().conversations(c.sid).fetch()).state).toBe('active');
    const d = await t.emulator.control.waitForDelivery((x) => x.state === 'delivered' && x.eventType === 'onConversationStateUpdated', 5000);
    const got = rx.requests.find((q) => q.idempotencyToken === d.idempotencyToken);
    expect(got?.signatureValid).toBe(true);
    expect(got?.params).toMatchObject({ ConversationSid: c.sid, StateFrom: 'inactive', StateTo: 'active', Reason: 'EVENT', Source: 'SMS' });
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((x) => x.eventType)).toEqual(['onConversationStateUpdated']);
  });

  it("an unencoded '+' (decoded as a space) is refused with a hint, and nothing is stored", async () => {
    for (const body of [`From=+15558675310&To=%2B15017122661&Body=hi`, `From=%2B15558675310&To=+15017122661&Body=hi`, `From=whatsapp:+15558675310&To=whatsapp:%2B15017122661`]) {
      const r = await t.http('POST', '/_emulator/inbound', { auth: null, body, contentType: 'application/x-www-form-urlencoded' });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
      expect(r.body.message).toMatch(/(From|To) '(whatsapp:)? 1\d+' starts with a space.*%2B/);
    }
    expect(t.emulator.core.db.all('SELECT sid FROM channel_messages')).toEqual([]);
    expect(t.emulator.core.db.all('SELECT address FROM channel_sessions')).toEqual([]);
  });
});

describe('SMS opt-out keywords', () => {
  it('STOP opts the handset out of that sender; later messages fail with 21610 while create still answers 201', async () => {
    await v1().services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url(), filters: ['onDeliveryUpdated'], method: 'POST' });
    const c = await conversationWith(A, PROXY);
    const stop = await inbound(A, PROXY, 'STOP');
    // the keyword still reaches the application
    expect(stop.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
    expect((await c.messages(stop.body.messageSid).fetch()).body).toBe('STOP');
    const [optOut] = await optOuts();
    expect(optOut).toMatchObject({ address: A, sender: PROXY });
    expect(optOut.since).toMatch(ISO);
    expect(await outboxTo(A)).toMatchObject([{ from: PROXY, body: REPLIES.stop, direction: 'outbound-reply', messageSid: null }]);

    const raw = await t.http('POST', `/v1/Conversations/${c.sid}/Messages`, { form: { Author: 'alice', Body: 'are you there?' } });
    expect(raw.status).toBe(201);
    const [receipt] = await c.messages(raw.body.sid).deliveryReceipts.list();
    expect(receipt).toMatchObject({ status: 'failed', errorCode: 21610, participantSid: c.participant });
    expect((await c.messages(raw.body.sid).fetch()).delivery).toEqual({ total: 1, sent: 'none', delivered: 'none', read: 'none', failed: 'all', undelivered: 'none' });
    expect((await outboxTo(A)).find((x) => x.messageSid === raw.body.sid)).toMatchObject({ status: 'failed', errorCode: 21610 });
    const d = await t.emulator.control.waitForDelivery((x) => x.state === 'delivered' && x.eventType === 'onDeliveryUpdated' && x.params.MessageSid === raw.body.sid, 5000);
    expect(rx.requests.find((q) => q.idempotencyToken === d.idempotencyToken)?.params).toMatchObject({ Status: 'failed', ErrorCode: '21610', DeliveryReceiptSid: receipt.sid, ParticipantSid: c.participant });

    // the block is per sender: the same handset behind another number still gets messages
    const other = await conversationWith(A, PROXY2);
    expect((await sendTo(other)).receipt).toMatchObject({ status: 'delivered', errorCode: null });
  });

  it('every STOP-family word opts out, trimmed and in any case; other text does not', async () => {
    const words = ['STOP', ' stop ', 'Stop', 'UNSUBSCRIBE', 'cancel', 'end', 'quit', 'stopall'];
    for (const [i, word] of words.entries()) {
      const from = `+1555867540${i}`;
      expect((await inbound(from, PROXY, word)).status).toBe(201);
      expect(await outboxTo(from)).toMatchObject([{ body: REPLIES.stop }]);
    }
    expect((await optOuts()).map((o) => o.address).sort()).toEqual(words.map((_, i) => `+1555867540${i}`).sort());
    for (const text of ['STOP PLEASE', 'please stop', 'stopp', '']) {
      await inbound(B, PROXY, text);
    }
    expect((await optOuts()).some((o) => o.address === B)).toBe(false);
    expect(await outboxTo(B)).toEqual([]);
  });

  it.each(['START', 'yes', 'Unstop'])('%s opts back in: the next message is delivered', async (word) => {
    const c = await conversationWith(A, PROXY);
    await inbound(A, PROXY, 'stop');
    expect((await sendTo(c)).receipt.status).toBe('failed');
    expect((await inbound(A, PROXY, word)).status).toBe(201);
    expect(await optOuts()).toEqual([]);
    expect((await outboxTo(A)).filter((x) => x.direction === 'outbound-reply').map((x) => x.body)).toEqual([REPLIES.stop, REPLIES.start]);
    const after = await sendTo(c);
    expect(after.receipt).toMatchObject({ status: 'delivered', errorCode: null });
    expect(after.delivery).toMatchObject({ total: 1, delivered: 'all', failed: 'none' });
  });

  it('HELP and INFO get the help reply and change nothing', async () => {
    await inbound(A, PROXY, 'HELP');
    await inbound(B, PROXY, ' info');
    expect((await outboxTo(A)).map((x) => [x.from, x.body])).toEqual([[PROXY, REPLIES.help]]);
    expect((await outboxTo(B)).map((x) => x.body)).toEqual([REPLIES.help]);
    expect(await optOuts()).toEqual([]);
  });
});

describe('WhatsApp 24-hour window', () => {
  it('freeform needs a recent inbound; a template (ContentSid) goes through anyway', async () => {
    const c = await conversationWith(WA, WA_PROXY);
    const cold = await sendTo(c);
    expect(cold.receipt).toMatchObject({ status: 'failed', errorCode: 63016 });
    expect(cold.delivery).toMatchObject({ total: 1, failed: 'all', sent: 'none' });

    await inbound(WA, WA_PROXY, 'hi there');
    expect((await sendTo(c)).receipt).toMatchObject({ status: 'delivered', errorCode: null });
    t.emulator.clock.advance(24 * 3600);
    expect((await sendTo(c)).receipt).toMatchObject({ status: 'delivered', errorCode: null });
    t.emulator.clock.advance(1);
    const late = await sendTo(c);
    expect(late.receipt).toMatchObject({ status: 'failed', errorCode: 63016 });
    expect((await outboxTo(WA)).find((x) => x.messageSid === late.message.sid)).toMatchObject({ status: 'failed', errorCode: 63016 });

    const template = await sendTo(c, { contentSid: 'HX' + 'a'.repeat(32) });
    expect(template.message.contentSid).toBe('HX' + 'a'.repeat(32));
    expect(template.receipt).toMatchObject({ status: 'delivered', errorCode: null });

    // a new inbound reopens the window
    await inbound(WA, WA_PROXY, 'back');
    expect((await sendTo(c)).receipt.status).toBe('delivered');
  });

  it('the window is per sender, and SMS has none', async () => {
    const c = await conversationWith(WA, WA_PROXY);
    await inbound(WA, 'whatsapp:+15017122699', 'to another number');
    expect((await sendTo(c)).receipt.errorCode).toBe(63016);
    const sms = await conversationWith(A, PROXY);
    t.emulator.clock.advance(48 * 3600);
    expect((await sendTo(sms)).receipt).toMatchObject({ status: 'delivered', errorCode: null });
  });
});
