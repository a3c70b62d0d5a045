/**
 * Programmable Messaging (api.twilio.com/2010-04-01 Messages) through the official SDK and raw HTTP: send, fetch,
 * list with filters and 2010 paging, delete; signed status callbacks in order; scripted handset failures;
 * opt-outs (21610) and parameter errors. Every 2010 answer is checked against Twilio's 2010 OpenAPI schema.
 */
import type { ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator, type HttpAnswer } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';
import { v2010Validators } from './support/v2010-schema.js';

const START = Date.UTC(2019, 4, 24, 17, 44, 46); // Fri, 24 May 2019 17:44:46 +0000
const t = useEmulator({ clock: { mode: 'manual', start: START } });
let validateMessage: ValidateFunction;
let validateList: ValidateFunction;

const rx = useReceiver(() => t.emulator.authToken, 'callbacks');

beforeAll(async () => {
  const v2010 = await v2010Validators();
  validateMessage = v2010.schema('api.v2010.account.message');
  validateList = v2010.list('/2010-04-01/Accounts/{AccountSid}/Messages.json');
}, 30_000);

const SENDER = '+15017122661';
const A = '+15558675310';
const B = '+15558675311';
const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const base = () => `/2010-04-01/Accounts/${t.emulator.accountSid}`;
const control = (method: string, path: string, body?: unknown) =>
  t.http(method, `/_emulator${path}`, body === undefined ? { auth: null } : { auth: null, contentType: 'application/json', body: JSON.stringify(body) });

/** a 2010 answer: the status, and the body valid against the spec's message (or list) schema */
function checked(r: HttpAnswer, status: number, kind: 'message' | 'list' = 'message') {
  expect(r.status, r.text).toBe(status);
  const validate = kind === 'message' ? validateMessage : validateList;
  expect(validate(r.body) ? [] : validate.errors, `a 2010 ${kind} that breaks the spec`).toEqual([]);
  return r.body;
}
const send = (form: Record<string, string | string[]>, auth?: [string, string]) => t.http('POST', `${base()}/Messages.json`, { form, auth });
const fetchRaw = (sid: string) => t.http('GET', `${base()}/Messages/${sid}.json`);
const listRaw = (query = '') => t.http('GET', `${base()}/Messages.json${query}`);

async function until<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** the status callbacks one message's URL received, once `n` arrived, in arrival order */
const callbacks = (sid: string, n: number) =>
  until(() => {
    const got = rx.requests.filter((r) => r.params.MessageSid === sid);
    return got.length >= n ? got : undefined;
  });

describe('send, fetch, list', () => {
  it('creates through the SDK, answers 201 queued with the 2010 representation, then shows it delivered', async () => {
    const m = await t.client.messages.create({ to: A, from: SENDER, body: 'Hello from tce 👍' });
    expect(m.sid).toMatch(SID);
    expect(m).toMatchObject({
      accountSid: t.emulator.accountSid, apiVersion: '2010-04-01', body: 'Hello from tce 👍', direction: 'outbound-api',
      from: SENDER, to: A, status: 'queued', numMedia: '0', numSegments: '1', price: null, priceUnit: 'USD',
      errorCode: null, errorMessage: null, messagingServiceSid: null, dateSent: null,
      uri: `${base()}/Messages/${m.sid}.json`,
      subresourceUris: { media: `${base()}/Messages/${m.sid}/Media.json`, feedback: `${base()}/Messages/${m.sid}/Feedback.json` },
    });
    expect(m.dateCreated.toISOString()).toBe(new Date(START).toISOString());

    const fetched = await t.client.messages(m.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.dateSent?.getTime()).toBe(START);
    const raw = checked(await fetchRaw(m.sid), 200);
    expect(raw).toMatchObject({ sid: m.sid, status: 'delivered', date_created: 'Fri, 24 May 2019 17:44:46 +0000', date_sent: 'Fri, 24 May 2019 17:44:46 +0000', num_segments: '1' });

    const listed = await t.client.messages.list({ to: A });
    expect(listed.map((x) => [x.sid, x.body, x.status])).toEqual([[m.sid, 'Hello from tce 👍', 'delivered']]);
  });

  it('raw create answers match the spec: media, segments, a Messaging Service without From, WhatsApp', async () => {
    const mms = checked(await send({ To: A, From: SENDER, Body: 'x'.repeat(161), MediaUrl: ['https://demo.twilio.com/owl.png', 'https://demo.twilio.com/logo.png'] }), 201);
    expect(mms).toMatchObject({ status: 'queued', num_media: '2', num_segments: '2', error_code: null });
    const mg = `MG${'a'.repeat(32)}`;
    const viaService = checked(await send({ To: B, MessagingServiceSid: mg, Body: 'ÜNICODE ☃' }), 201);
    expect(viaService).toMatchObject({ from: null, messaging_service_sid: mg, num_segments: '1' });
    const wa = checked(await send({ To: `whatsapp:${A}`, From: `whatsapp:${SENDER}`, ContentSid: `HX${'b'.repeat(32)}` }), 201);
    expect(wa).toMatchObject({ to: `whatsapp:${A}`, body: null });
    // free-form WhatsApp outside the 24-hour window fails when it leaves (the 201 was already given)
    const late = checked(await send({ To: `whatsapp:${B}`, From: `whatsapp:${SENDER}`, Body: 'free-form' }), 201);
    expect(checked(await fetchRaw(late.sid), 200)).toMatchObject({ status: 'failed', error_code: 63016, date_sent: null });
    // a test-credential send describes a message under the test AccountSid, in the same schema
    const { testAccountSid, testAuthToken } = t.emulator;
    const test = checked(await t.http('POST', `/2010-04-01/Accounts/${testAccountSid}/Messages.json`, { form: { To: A, From: '+15005550006', Body: 'pretend' }, auth: [testAccountSid, testAuthToken] }), 201);
    expect(test).toMatchObject({ account_sid: testAccountSid, status: 'queued', from: '+15005550006' });
    checked(await listRaw(), 200, 'list');
  });

  it('lists with To, From and DateSent filters, newest first; inbound messages and opt-out replies included', async () => {
    const first = await t.client.messages.create({ to: A, from: SENDER, body: 'day one' });
    t.emulator.clock.advance(86_400);
    const second = await t.client.messages.create({ to: B, from: SENDER, body: 'day two' });
    expect((await control('POST', '/inbound', { From: A, To: SENDER, Body: 'HELP' })).status).toBe(201);
    const all = checked(await listRaw(), 200, 'list');
    expect(all.messages.map((m: any) => [m.direction, m.from, m.to, m.status, m.body])).toEqual([
      ['outbound-reply', SENDER, A, 'delivered', 'Reply STOP to unsubscribe. Msg&Data Rates May Apply.'],
      ['inbound', A, SENDER, 'received', 'HELP'],
      ['outbound-api', SENDER, B, 'delivered', 'day two'],
      ['outbound-api', SENDER, A, 'delivered', 'day one'],
    ]);
    expect((await t.client.messages.list({ to: B })).map((m) => m.sid)).toEqual([second.sid]);
    expect((await t.client.messages.list({ from: A })).map((m) => m.body)).toEqual(['HELP']);
    expect((await t.client.messages.list({ dateSent: new Date(START) })).map((m) => m.sid)).toEqual([first.sid]);
    expect((await t.client.messages.list({ dateSentAfter: new Date(START + 3600_000), to: B })).map((m) => m.sid)).toEqual([second.sid]);
    const before = checked(await listRaw('?DateSent%3C=2019-05-24'), 200, 'list');
    expect(before.messages.map((m: any) => m.sid)).toEqual([first.sid]);
    expect(before.uri).toBe(`${base()}/Messages.json?DateSent%3C=2019-05-24&PageSize=50&Page=0`);
    expect((await listRaw('?DateSent=yesterday')).body).toMatchObject({ status: 400, code: 20001 });
  });

  it('pages through five messages two at a time with the SDK and the 2010 envelope', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await t.client.messages.create({ to: A, from: SENDER, body: `m${i}` })).sid);
    const newestFirst = [...sids].reverse();
    expect((await t.client.messages.list({ pageSize: 2 })).map((m) => m.sid)).toEqual(newestFirst);
    const seen: string[] = [];
    await t.client.messages.each({ pageSize: 2 }, (m) => {
      seen.push(m.sid);
    });
    expect(seen).toEqual(newestFirst);
    const page = await t.client.messages.page({ pageSize: 2 });
    const next = await page.nextPage();
    expect(next?.instances.map((m) => m.sid)).toEqual(newestFirst.slice(2, 4));

    const p0 = checked(await listRaw('?PageSize=2'), 200, 'list');
    expect(p0).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null, first_page_uri: `${base()}/Messages.json?PageSize=2&Page=0` });
    expect(p0.next_page_uri).toBe(`${base()}/Messages.json?PageSize=2&Page=1&PageToken=PA${newestFirst[1]}`);
    const p2 = checked(await t.http('GET', checked(await t.http('GET', p0.next_page_uri), 200, 'list').next_page_uri), 200, 'list');
    expect(p2).toMatchObject({ page: 2, start: 4, end: 4, next_page_uri: null });
    expect(p2.messages.map((m: any) => m.sid)).toEqual([sids[0]]);
    expect(p2.previous_page_uri).toMatch(/Page=1&PageToken=PB/);
    expect((await listRaw('?PageToken=PAnotatoken')).body).toMatchObject({ status: 400, code: 21481 });
    expect((await listRaw('?PageSize=0')).body).toMatchObject({ status: 400, code: 20001 });
  });

  it('pages by offset without a token; a Page past 2^53-1 or out of shape is 400/20001, a bad PageToken 400/21481', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) sids.push((await t.client.messages.create({ to: A, from: SENDER, body: `o${i}` })).sid);
    const newestFirst = [...sids].reverse();
    const p1 = checked(await listRaw('?PageSize=2&Page=1'), 200, 'list');
    expect(p1.messages.map((m: any) => m.sid)).toEqual(newestFirst.slice(2, 4));
    expect(p1).toMatchObject({ page: 1, start: 2, end: 3 });
    expect((await t.client.messages.page({ pageSize: 2, pageNumber: 2 })).instances.map((m) => m.sid)).toEqual([sids[0]]);

    for (const bad of ['99999999999999999999', '9223372036854775808', '9007199254740992', '-1', '1.5', 'x']) {
      const r = await listRaw(`?Page=${bad}`);
      expect(r.status, `Page=${bad}`).toBe(400);
      expect(r.body, `Page=${bad}`).toMatchObject({ status: 400, code: 20001, message: expect.stringContaining('Page') });
    }
    const top = checked(await listRaw('?Page=9007199254740991'), 200, 'list');
    expect(top).toMatchObject({ messages: [], page: 9007199254740991, next_page_uri: null });
    expect(checked(await listRaw('?PageSize=99999999999999999999'), 200, 'list').page_size).toBe(1000);
    for (const token of ['garbage', `PA${'SM' + '0'.repeat(32)}`]) {
      expect((await listRaw(`?PageToken=${token}`)).body, token).toEqual({
        code: 21481,
        message: `Invalid PageToken: ${token}`,
        more_info: 'https://www.twilio.com/docs/errors/21481',
        status: 400,
      });
    }
  });

  it('deletes a message: 204, then 404; a token naming it still pages', async () => {
    const keep = await t.client.messages.create({ to: A, from: SENDER, body: 'keep' });
    const gone = await t.client.messages.create({ to: A, from: SENDER, body: 'gone' });
    expect(await t.client.messages(gone.sid).remove()).toBe(true);
    expectTwilioErrorBody(await fetchRaw(gone.sid), 404, 20404);
    expect((await t.http('DELETE', `${base()}/Messages/${gone.sid}.json`)).status).toBe(404);
    const after = checked(await listRaw(`?PageToken=PA${gone.sid}`), 200, 'list');
    expect(after.messages.map((m: any) => m.sid)).toEqual([keep.sid]);
  });
});

/** a carrier receipt's done date: YYMMDDhhmm, GMT */
const yyMMddhhmm = (d: Date) => d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d).*$/, '$1$2$3$4$5');

/** every StatusCallback the journal holds for one message, once it reached a final status (written with it) */
const journaled = (sid: string) => t.emulator.control.deliveries({ eventType: 'StatusCallback' }).filter((d) => d.params.MessageSid === sid);

describe('status callbacks', () => {
  it('are signed and arrive sent → delivered, none for the initial queued; delivered carries RawDlrDoneDate, none RetryCount', async () => {
    const m = await t.client.messages.create({ to: A, from: SENDER, body: 'tracked', statusCallback: rx.url('/status') });
    expect(m.status).toBe('queued');
    const got = await callbacks(m.sid, 2);
    expect(journaled(m.sid).map((d) => d.params.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(got.map((r) => [r.path, r.params.MessageStatus, r.params.SmsStatus, r.params.SmsSid])).toEqual([
      ['/status', 'sent', 'sent', m.sid],
      ['/status', 'delivered', 'delivered', m.sid],
    ]);
    expect(got[1].params).toEqual({
      AccountSid: t.emulator.accountSid, MessageSid: m.sid, SmsSid: m.sid, MessageStatus: 'delivered', SmsStatus: 'delivered',
      From: SENDER, To: A, ApiVersion: '2010-04-01', RawDlrDoneDate: yyMMddhhmm(t.emulator.clock.now()),
    });
    expect(got[0].params.RawDlrDoneDate).toBeUndefined();
    expect(got.every((r) => r.signatureValid && r.signature && r.params.RetryCount === undefined)).toBe(true);
  });

  it('a handset scripted undelivered 30003 ends with undelivered, ErrorCode 30003 and RawDlrDoneDate', async () => {
    expect((await control('PUT', `/handsets/${encodeURIComponent(B)}`, { outcome: 'undelivered', errorCode: 30003 })).status).toBe(200);
    t.emulator.clock.set('2020-06-27T17:45:59Z');
    const m = await t.client.messages.create({ to: B, from: SENDER, body: 'into the void', statusCallback: rx.url('/status') });
    const got = await callbacks(m.sid, 2);
    expect(got.map((r) => [r.params.MessageStatus, r.params.ErrorCode, r.params.RawDlrDoneDate])).toEqual([['sent', undefined, undefined], ['undelivered', '30003', '2006271745']]);
    expect(yyMMddhhmm(t.emulator.clock.now())).toBe('2006271745');
    const fetched = checked(await fetchRaw(m.sid), 200);
    expect(fetched).toMatchObject({ status: 'undelivered', error_code: 30003, error_message: 'Unreachable destination handset' });
    expect((await t.client.messages(m.sid).fetch()).errorCode).toBe(30003);
  });
});

describe('Messaging Service sends', () => {
  const MG = `MG${'c'.repeat(32)}`;

  it('start accepted with from null, then call back queued → sent → delivered from the sender the service picked', async () => {
    const created = checked(await send({ To: A, MessagingServiceSid: MG, Body: 'via a service', StatusCallback: rx.url('/mg') }), 201);
    expect(created).toMatchObject({ status: 'accepted', from: null, messaging_service_sid: MG });
    const got = await callbacks(created.sid, 3);
    expect(journaled(created.sid).map((d) => d.params.MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    const sender = got[0].params.From as string;
    expect(sender).toMatch(/^\+1555\d{7}$/);
    expect(got.map((r) => [r.params.MessageStatus, r.params.From, r.params.MessagingServiceSid])).toEqual([
      ['queued', sender, MG], ['sent', sender, MG], ['delivered', sender, MG],
    ]);
    expect(got.every((r) => r.signatureValid)).toBe(true);
    expect(checked(await fetchRaw(created.sid), 200)).toMatchObject({ status: 'delivered', from: sender, messaging_service_sid: MG });
    // the same service picks the same sender again; WhatsApp recipients get it as a whatsapp: sender
    const again = await t.client.messages.create({ to: B, messagingServiceSid: MG, body: 'again' });
    expect(again).toMatchObject({ status: 'accepted', from: null });
    expect((await t.client.messages(again.sid).fetch()).from).toBe(sender);
    const wa = checked(await send({ To: `whatsapp:${A}`, MessagingServiceSid: MG, ContentSid: `HX${'d'.repeat(32)}` }), 201);
    expect(checked(await fetchRaw(wa.sid), 200).from).toBe(`whatsapp:${sender}`);
  });

  it('pick the first sender of the pool set through the control plane, per channel; an empty pool means the default again', async () => {
    const pooled = `MG${'f'.repeat(32)}`;
    const path = `/messaging-services/${pooled}/senders`;
    expect((await control('GET', path)).body).toEqual({ messagingServiceSid: pooled, senders: [] });
    const set = await control('PUT', path, { senders: ['+15017122662', 'whatsapp:+15017122663', '+15017122664'] });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toEqual({ messagingServiceSid: pooled, senders: ['+15017122662', 'whatsapp:+15017122663', '+15017122664'] });
    expect((await control('GET', path)).body).toEqual(set.body);
    const sms = await t.client.messages.create({ to: A, messagingServiceSid: pooled, body: 'pooled', statusCallback: rx.url('/pool') });
    expect(sms.from).toBeNull();
    expect((await callbacks(sms.sid, 3)).map((r) => r.params.From)).toEqual(['+15017122662', '+15017122662', '+15017122662']);
    const wa = await t.client.messages.create({ to: `whatsapp:${A}`, messagingServiceSid: pooled, contentSid: `HX${'1'.repeat(32)}` });
    expect((await t.client.messages(wa.sid).fetch()).from).toBe('whatsapp:+15017122663');
    // bad input is refused whole
    expect((await control('PUT', path, { senders: ['+15017122662', 'not a sender!'] })).body).toMatchObject({ status: 400, code: 20001 });
    expect((await control('PUT', path, { senders: '+1' })).body).toMatchObject({ status: 400, code: 20001 });
    expect((await control('PUT', '/messaging-services/MG1/senders', { senders: [] })).body).toMatchObject({ status: 400, code: 20001 });
    expect((await control('GET', path)).body.senders).toEqual(['+15017122662', 'whatsapp:+15017122663', '+15017122664']);
    // a form body with one sender, then none: the derived default again
    expect((await t.http('PUT', `/_emulator${path}`, { form: { senders: '+15017122665' }, auth: null })).body.senders).toEqual(['+15017122665']);
    expect((await control('PUT', path, { senders: [] })).body.senders).toEqual([]);
    const fallback = await t.client.messages.create({ to: A, messagingServiceSid: pooled, body: 'default' });
    expect((await t.client.messages(fallback.sid).fetch()).from).toMatch(/^\+1555\d{7}$/);
  });

  it('a manual handset still gets its sender at once, and moves on only when advanced', async () => {
    expect((await control('PUT', `/handsets/${encodeURIComponent(B)}`, { progression: 'manual' })).status).toBe(200);
    const created = checked(await send({ To: B, MessagingServiceSid: MG, Body: 'slow', StatusCallback: rx.url('/mg') }), 201);
    expect(created.status).toBe('accepted');
    const [queued] = await callbacks(created.sid, 1);
    expect(queued.params).toMatchObject({ MessageStatus: 'queued', To: B });
    expect(checked(await fetchRaw(created.sid), 200)).toMatchObject({ status: 'queued', from: queued.params.From, date_sent: null });
    expect((await control('POST', `/handsets/${encodeURIComponent(B)}/advance`)).status).toBe(200);
    expect((await callbacks(created.sid, 2))[1].params.MessageStatus).toBe('sent');
  });
});

describe('WhatsApp status callbacks', () => {
  it('carry ChannelPrefix and ChannelInstallSid, and ChannelStatusMessage when the message failed; no RawDlrDoneDate', async () => {
    const template = await t.client.messages.create({ to: `whatsapp:${A}`, from: `whatsapp:${SENDER}`, contentSid: `HX${'e'.repeat(32)}`, statusCallback: rx.url('/wa') });
    const ok = await callbacks(template.sid, 2);
    expect(ok.map((r) => r.params.MessageStatus)).toEqual(['sent', 'delivered']);
    for (const r of ok) {
      expect(r.params).toMatchObject({ ChannelPrefix: 'whatsapp', From: `whatsapp:${SENDER}`, To: `whatsapp:${A}` });
      expect(r.params.ChannelInstallSid).toMatch(/^XE[0-9a-f]{32}$/);
      expect(r.params.RawDlrDoneDate).toBeUndefined();
      expect(r.params.ChannelStatusMessage).toBeUndefined();
      expect(r.signatureValid).toBe(true);
    }
    const late = await t.client.messages.create({ to: `whatsapp:${B}`, from: `whatsapp:${SENDER}`, body: 'free-form', statusCallback: rx.url('/wa') });
    const [failed] = await callbacks(late.sid, 1);
    expect(failed.params).toMatchObject({ MessageStatus: 'failed', ErrorCode: '63016', ChannelPrefix: 'whatsapp', ChannelInstallSid: ok[0].params.ChannelInstallSid });
    expect(failed.params.ChannelStatusMessage).toMatch(/outside the allowed window/);
  });
});

function expectTwilioErrorBody(r: HttpAnswer, status: number, code: number, message?: string | RegExp) {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
  if (message) expect(r.body.message).toMatch(message);
}

describe('errors', () => {
  it('refuses a To that is not E.164: 400/21211', async () => {
    await expectTwilioError(t.client.messages.create({ to: '5558675310', from: SENDER, body: 'x' }), 400, 21211, /Invalid 'To' Phone Number/);
    await expectTwilioError(t.client.messages.create({ to: 'whatsapp:+1555', from: SENDER, body: 'x' }), 400, 21211);
    expectTwilioErrorBody(await send({ To: '+999999999999999999', From: SENDER, Body: 'x' }), 400, 21211);
    expect(checked(await listRaw(), 200, 'list').messages).toEqual([]);
  });

  it('refuses a handset that texted STOP: 400/21610, nothing stored; START lifts it', async () => {
    expect((await control('POST', '/inbound', { From: A, To: SENDER, Body: 'STOP' })).status).toBe(201);
    await expectTwilioError(t.client.messages.create({ to: A, from: SENDER, body: 'still there?' }), 400, 21610, 'Attempt to send to unsubscribed recipient');
    const listed = checked(await listRaw(), 200, 'list').messages;
    expect(listed.map((m: any) => [m.direction, m.status, m.body.slice(0, 24)])).toEqual([
      ['outbound-reply', 'delivered', 'You have successfully be'],
      ['inbound', 'received', 'STOP'],
    ]);
    // another sender may still write to A
    expect((await t.client.messages.create({ to: A, from: '+15017122662', body: 'other sender' })).status).toBe('queued');
    expect((await control('POST', '/inbound', { From: A, To: SENDER, Body: 'START' })).status).toBe(201);
    expect((await t.client.messages.create({ to: A, from: SENDER, body: 'welcome back' })).status).toBe('queued');
  });

  it('names the missing parameter: To 21604, From 21603, Body 21602, and checks the rest', async () => {
    expectTwilioErrorBody(await send({ From: SENDER, Body: 'x' }), 400, 21604, "A 'To' phone number is required.");
    expectTwilioErrorBody(await send({ To: A, Body: 'x' }), 400, 21603, "A 'From' phone number is required.");
    expectTwilioErrorBody(await send({ To: A, From: SENDER }), 400, 21602, 'Message body is required.');
    expectTwilioErrorBody(await send({ To: A, From: SENDER, Body: '' }), 400, 21602);
    expectTwilioErrorBody(await send({ To: A, From: 'not a number!', Body: 'x' }), 400, 21212);
    expectTwilioErrorBody(await send({ To: `whatsapp:${A}`, From: SENDER, Body: 'x' }), 400, 21910);
    expectTwilioErrorBody(await send({ To: A, From: SENDER, Body: 'x'.repeat(1601) }), 400, 21617);
    expectTwilioErrorBody(await send({ To: A, From: SENDER, MediaUrl: 'ftp://example.com/a.png' }), 400, 21620);
    expectTwilioErrorBody(await send({ To: A, From: SENDER, Body: 'x', MessagingServiceSid: 'MG1' }), 400, 20001);
    expectTwilioErrorBody(await send({ To: A, From: SENDER, Body: 'x', StatusCallback: 'not a url' }), 400, 20001);
    expectTwilioErrorBody(await t.http('PUT', `${base()}/Messages.json`), 405, 20004);
    expect(checked(await listRaw(), 200, 'list').messages).toEqual([]);
  });

  it("keeps accounts apart: another account's message or path is 404/20404, bad credentials 401/20003", async () => {
    const other = t.emulator.control.createAccount();
    const theirs = checked(await t.http('POST', `/2010-04-01/Accounts/${other.sid}/Messages.json`, { form: { To: A, From: SENDER, Body: 'theirs' }, auth: [other.sid, other.authToken] }), 201);
    expect(theirs.account_sid).toBe(other.sid);
    await expectTwilioError(t.client.messages(theirs.sid).fetch(), 404, 20404);
    expectTwilioErrorBody(await t.http('GET', `/2010-04-01/Accounts/${other.sid}/Messages/${theirs.sid}.json`), 404, 20404, `/2010-04-01/Accounts/${other.sid}/Messages/${theirs.sid}.json`);
    expectTwilioErrorBody(await t.http('GET', `/2010-04-01/Accounts/${other.sid}/Messages.json`), 404, 20404);
    expect((await t.client.messages.list()).map((m) => m.sid)).toEqual([]);
    const unauthenticated = await t.http('GET', `${base()}/Messages.json`, { auth: [t.emulator.accountSid, 'wrong'] });
    expectTwilioErrorBody(unauthenticated, 401, 20003);
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expectTwilioErrorBody(await t.http('GET', `${base()}/Messages.json`, { auth: null }), 401, 20003);
    expectTwilioErrorBody(await fetchRaw(`SM${'0'.repeat(32)}`), 404, 20404);
    expectTwilioErrorBody(await t.http('GET', `${base()}/Calls.json`), 404, 20404, `${base()}/Calls.json`);
    expectTwilioErrorBody(await t.http('GET', `${base()}/Calls.json`, { auth: null }), 401, 20003);
  });
});
