/**
 * Phone numbers' incoming-message webhooks: `PUT` / `GET` / `DELETE /_emulator/numbers/{address}` configure a
 * number's `SmsUrl`; a plain Messaging inbound to it (in no conversation, no auto-creation) is delivered there with
 * Twilio's inbound fields, signed (checked by a real consumer with twilio.validateRequest), journaled as
 * `messaging.inbound`, retried and faulted like every delivery; keywords are acted on first and still forwarded.
 */
import { describe, expect, it } from 'vitest';
import { REPLIES } from '../src/emulator/channel/keywords.js';
import type { DeliveryView } from '../src/emulator/webhooks/service.js';
import { useEmulator } from './support/emulator.js';
import { useReceiver, type Received } from './support/webhook-receiver.js';

const t = useEmulator();
/** the token the receiver checks signatures with: the first account's unless a test says otherwise */
let signer: (() => string) | undefined;
const rx = useReceiver(() => (signer ?? (() => t.emulator.authToken))(), 'incoming-message webhooks');

const NUMBER = '+15017120001';
const OTHER_NUMBER = '+15017120002';
const A = '+15558670001';
const WA = 'whatsapp:+15558670002';
const WA_NUMBER = 'whatsapp:+15017120003';

const control = (method: string, path: string, body?: unknown) =>
  t.http(method, `/_emulator${path}`, body === undefined ? { auth: null } : { auth: null, contentType: 'application/json', body: JSON.stringify(body) });
const numberPath = (address: string) => `/numbers/${encodeURIComponent(address)}`;
const inbound = (body: Record<string, unknown>) => control('POST', '/inbound', body);

/** the finished incoming-message delivery of this message, and the request the consumer received for it */
async function delivered(messageSid: string): Promise<{ delivery: DeliveryView; request: Received }> {
  const delivery = await t.emulator.control.waitForDelivery((d) => d.eventType === 'messaging.inbound' && d.params.MessageSid === messageSid && d.state !== 'pending', 5000);
  const request = rx.requests.find((r) => r.idempotencyToken === delivery.idempotencyToken);
  expect(request, 'the consumer got the webhook').toBeDefined();
  expect(request!.signatureValid).toBe(true);
  return { delivery, request: request! };
}

describe('configuring a number', () => {
  it('PUT, GET and DELETE a number’s SmsUrl (JSON or form); 404 for a number with none; kept by reset', async () => {
    const put = await control('PUT', numberPath(NUMBER), { smsUrl: rx.url('/sms') });
    expect(put.status).toBe(200);
    const expected = { address: NUMBER, accountSid: t.emulator.accountSid, smsUrl: rx.url('/sms'), smsMethod: 'POST' };
    expect(put.body).toEqual(expected);
    expect((await control('GET', numberPath(NUMBER))).body).toEqual(expected);
    const form = await t.http('PUT', `/_emulator${numberPath(OTHER_NUMBER)}`, { auth: null, form: { smsUrl: rx.url('/other'), smsMethod: 'get' } });
    expect(form.body).toEqual({ address: OTHER_NUMBER, accountSid: t.emulator.accountSid, smsUrl: rx.url('/other'), smsMethod: 'GET' });

    expect((await control('POST', '/reset')).status).toBe(204);
    expect((await control('GET', numberPath(NUMBER))).body).toEqual(expected);

    expect((await control('DELETE', numberPath(NUMBER))).status).toBe(204);
    for (const method of ['GET', 'DELETE']) {
      const gone = await control(method, numberPath(NUMBER));
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ code: 20404, status: 404, more_info: 'https://www.twilio.com/docs/errors/20404' });
    }
    // configuration outlives reset, so the test cleans up after itself
    expect((await control('DELETE', numberPath(OTHER_NUMBER))).status).toBe(204);
  });

  it('refuses bad input with 400 / 20001 naming the field, and an unknown account with 404', async () => {
    const cases: [string, unknown, RegExp][] = [
      [NUMBER, {}, /smsUrl is required/],
      [NUMBER, { smsUrl: 'ftp://example.com/sms' }, /smsUrl.*not an http or https URL/],
      [NUMBER, { smsUrl: '/relative' }, /smsUrl.*not an absolute URL/],
      [NUMBER, { smsUrl: 'http://example.com/a b' }, /smsUrl.*spaces/],
      [NUMBER, { smsUrl: 42 }, /smsUrl must be a string/],
      [NUMBER, { smsUrl: 'http://example.com/sms', smsMethod: 'PUT' }, /smsMethod must be POST or GET/],
      ['15017120001', { smsUrl: 'http://example.com/sms' }, /Invalid address/],
      ['not-a-number', { smsUrl: 'http://example.com/sms' }, /Invalid address/],
    ];
    for (const [address, body, message] of cases) {
      const r = await control('PUT', numberPath(address), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
      expect(r.body.message).toMatch(message);
    }
    const unknown = await control('PUT', numberPath(NUMBER), { smsUrl: 'http://example.com/sms', accountSid: `AC${'9'.repeat(32)}` });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe(20404);
    expect((await control('GET', numberPath(NUMBER))).status).toBe(404);
  });
});

describe('incoming messages', () => {
  it('a plain Messaging inbound is POSTed to the number’s SmsUrl with Twilio’s fields, signed, journaled as messaging.inbound', async () => {
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: rx.url('/sms') });
    try {
      const r = await inbound({ From: A, To: NUMBER, Body: 'hello number' });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ routedTo: 'messaging', channelMessageSid: expect.stringMatching(/^SM[0-9a-f]{32}$/), webhook: true });
      const sid = r.body.channelMessageSid as string;
      const { delivery, request } = await delivered(sid);
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/sms');
      expect(request.params).toEqual({
        MessageSid: sid, SmsSid: sid, SmsMessageSid: sid, AccountSid: t.emulator.accountSid, From: A, To: NUMBER, Body: 'hello number',
        NumMedia: '0', NumSegments: '1', SmsStatus: 'received', ApiVersion: '2010-04-01',
      });
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.idempotencyToken).toMatch(/^[0-9a-f]{32}$/);
      expect(delivery).toMatchObject({ eventType: 'messaging.inbound', state: 'delivered', url: rx.url('/sms'), method: 'POST', conversationSid: null });
      // the SID is the inbound Message's, as the Messaging API shows it
      const message = await t.client.messages(sid).fetch();
      expect(message).toMatchObject({ sid, direction: 'inbound', status: 'received', from: A, to: NUMBER, body: 'hello number' });
      const journal = await control('GET', '/webhooks/deliveries?eventType=messaging.inbound');
      expect(journal.body.deliveries.map((d: DeliveryView) => d.params.MessageSid)).toEqual([sid]);
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });

  it('an MMS carries NumMedia, MediaUrlN and MediaContentTypeN (given or guessed) under an MM SID; long bodies count segments', async () => {
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: rx.url('/sms') });
    try {
      const r = await inbound({ From: A, To: NUMBER, Body: 'x'.repeat(200), MediaUrl: ['https://media.example.com/cat.png', 'https://media.example.com/clip'], MediaContentType: ['', 'video/mp4'] });
      expect(r.body.webhook).toBe(true);
      const sid = r.body.channelMessageSid as string;
      expect(sid).toMatch(/^MM[0-9a-f]{32}$/);
      const { request } = await delivered(sid);
      expect(request.params).toMatchObject({
        MessageSid: sid, NumMedia: '2', NumSegments: '2',
        MediaUrl0: 'https://media.example.com/cat.png', MediaContentType0: 'image/png',
        MediaUrl1: 'https://media.example.com/clip', MediaContentType1: 'video/mp4',
      });
      expect(request.params.MediaUrl2).toBeUndefined();
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });

  it('smsMethod GET sends the fields in the query, signed over the full URL; WhatsApp adds WaId', async () => {
    expect((await control('PUT', numberPath(WA_NUMBER), { smsUrl: rx.url('/wa?tenant=1'), smsMethod: 'GET' })).status).toBe(200);
    try {
      const r = await inbound({ From: WA, To: WA_NUMBER, Body: 'hola' });
      expect(r.body).toMatchObject({ routedTo: 'messaging', webhook: true });
      const { request } = await delivered(r.body.channelMessageSid);
      expect(request.method).toBe('GET');
      expect(request.body).toBe('');
      expect(request.path.startsWith('/wa?tenant=1&')).toBe(true);
      expect(request.params).toMatchObject({ tenant: '1', From: WA, To: WA_NUMBER, Body: 'hola', WaId: '15558670002', SmsStatus: 'received' });
    } finally {
      await control('DELETE', numberPath(WA_NUMBER));
    }
  });

  it('names the Messaging Service whose sender pool holds the number', async () => {
    const MG = `MG${'a'.repeat(32)}`;
    expect((await control('PUT', `/messaging-services/${MG}/senders`, { senders: [NUMBER] })).status).toBe(200);
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: rx.url('/sms') });
    try {
      const r = await inbound({ From: A, To: NUMBER, Body: 'to a pooled number' });
      const { request } = await delivered(r.body.channelMessageSid);
      expect(request.params.MessagingServiceSid).toBe(MG);
      expect((await t.client.messages(r.body.channelMessageSid).fetch()).messagingServiceSid).toBe(MG);
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
      await control('PUT', `/messaging-services/${MG}/senders`, { senders: [] });
    }
  });

  it('STOP and START are acted on first (opt-out, Twilio’s reply) and still forwarded to the webhook', async () => {
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: rx.url('/sms') });
    try {
      const stop = await inbound({ From: A, To: NUMBER, Body: 'stop' });
      expect(stop.body).toMatchObject({ routedTo: 'messaging', webhook: true });
      expect((await control('GET', '/opt-outs')).body.optOuts).toMatchObject([{ address: A, sender: NUMBER }]);
      expect((await control('GET', `/outbox?to=${encodeURIComponent(A)}`)).body.messages).toMatchObject([{ from: NUMBER, body: REPLIES.stop, direction: 'outbound-reply' }]);
      expect((await delivered(stop.body.channelMessageSid)).request.params).toMatchObject({ Body: 'stop', From: A, To: NUMBER });
      const start = await inbound({ From: A, To: NUMBER, Body: 'START' });
      expect((await control('GET', '/opt-outs')).body.optOuts).toEqual([]);
      expect((await delivered(start.body.channelMessageSid)).request.params.Body).toBe('START');
      expect(rx.requests.map((q) => q.params.Body)).toEqual(['stop', 'START']);
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });

  it('no webhook for a number without one, nor for a message routed to a conversation', async () => {
    const plain = await inbound({ From: A, To: OTHER_NUMBER, Body: 'nobody listens' });
    expect(plain.body).toEqual({ routedTo: 'messaging', channelMessageSid: expect.stringMatching(/^SM/) });
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: rx.url('/sms') });
    try {
      const c = await t.client.conversations.v1.conversations.create({});
      await t.client.conversations.v1.conversations(c.sid).participants.create({ 'messagingBinding.address': A, 'messagingBinding.proxyAddress': NUMBER });
      const routed = await inbound({ From: A, To: NUMBER, Body: 'into the conversation' });
      expect(routed.body).toMatchObject({ routedTo: 'conversation', conversationSid: c.sid });
      expect(routed.body.webhook).toBeUndefined();
      expect(t.emulator.control.deliveries({ eventType: 'messaging.inbound' })).toEqual([]);
      expect(rx.requests).toEqual([]);
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });

  it('retries and webhook faults apply: a 503 is retried under #rp=5xx with the same idempotency token', async () => {
    t.emulator.control.setNumberWebhook(NUMBER, { smsUrl: `${rx.url('/sms')}#rp=5xx` });
    expect((await control('PUT', '/faults/webhooks', { rules: [{ match: { eventType: 'messaging.inbound' }, times: 1, action: { type: 'fail', status: 503 } }] })).status).toBe(200);
    try {
      const r = await inbound({ From: A, To: NUMBER, Body: 'retry me' });
      const delivery = await t.emulator.control.waitForDelivery((d) => d.eventType === 'messaging.inbound' && d.params.MessageSid === r.body.channelMessageSid && d.state === 'delivered', 5000);
      expect(delivery.attempts.map((a) => a.status)).toEqual([503, 200]);
      expect(rx.requests).toHaveLength(1);
      expect(rx.requests[0].idempotencyToken).toBe(delivery.idempotencyToken);
    } finally {
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });

  it('a number of another account is owned, signed and reported as that account’s', async () => {
    const other = (await control('POST', '/accounts', {})).body;
    expect((await control('PUT', numberPath(NUMBER), { smsUrl: rx.url('/theirs'), accountSid: other.accountSid })).body.accountSid).toBe(other.accountSid);
    signer = () => other.authToken;
    try {
      const r = await inbound({ From: A, To: NUMBER, Body: 'for the other account' });
      const { request } = await delivered(r.body.channelMessageSid);
      expect(request.params.AccountSid).toBe(other.accountSid);
      expect((await t.clientFor(other.accountSid, other.authToken).messages(r.body.channelMessageSid).fetch()).accountSid).toBe(other.accountSid);
    } finally {
      signer = undefined;
      t.emulator.control.deleteNumberWebhook(NUMBER);
    }
  });
});
