/**
 * The account's own phone numbers (`IncomingPhoneNumbers` of api.twilio.com/2010-04-01) through the official SDK and
 * raw HTTP: create by PhoneNumber or AreaCode, list with filters and 2010 paging, fetch, update, delete; Twilio's
 * errors; auth. A number's SmsUrl is its number webhook, one field for REST and the control plane. A Messaging API
 * send from owned number B to owned number A arrives at A as inbound (its SmsUrl, signed; its conversation; STOP
 * opts B out of A), with no control-plane call: what code written for real Twilio does. Every 2010 answer is
 * checked against Twilio's 2010 OpenAPI schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectTwilioError, startEmulator, useEmulator, type HttpAnswer } from './support/emulator.js';
import { v2010Validators } from './support/v2010-schema.js';
import { useReceiver } from './support/webhook-receiver.js';

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
const dir = mkdtempSync(join(tmpdir(), 'tce-numbers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = useEmulator();
const rx = useReceiver(() => t.emulator.authToken, 'incoming-message webhooks');
let validateNumber: ValidateFunction;
let validateList: ValidateFunction;

beforeAll(async () => {
  const v2010 = await v2010Validators();
  validateNumber = v2010.schema('api.v2010.account.incoming_phone_number');
  validateList = v2010.list('/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json');
}, 30_000);

// numbers are configuration, kept by reset: each test releases the ones it bought
afterEach(async () => {
  for (const n of await t.client.incomingPhoneNumbers.list()) await t.client.incomingPhoneNumbers(n.sid).remove();
});

const A = '+15017120001';
const B = '+15017120002';
const C = '+15017120003';
const PN = /^PN[0-9a-f]{32}$/;
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const base = () => `/2010-04-01/Accounts/${t.emulator.accountSid}`;

/** a 2010 answer: the status, and the body valid against the spec's number (or list) schema */
function checked(r: HttpAnswer, status: number, kind: 'number' | 'list' = 'number') {
  expect(r.status, r.text).toBe(status);
  const validate = kind === 'number' ? validateNumber : validateList;
  expect(validate(r.body) ? [] : validate.errors, `a 2010 ${kind} that breaks the spec`).toEqual([]);
  return r.body;
}
function expectError(r: HttpAnswer, status: number, code: number, message?: RegExp) {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toMatchObject({ code, status, more_info: `https://www.twilio.com/docs/errors/${code}` });
  if (message) expect(r.body.message).toMatch(message);
}
const buy = (form: Record<string, string>, auth?: [string, string]) => t.http('POST', `${base()}/IncomingPhoneNumbers.json`, { form, auth });
const listRaw = (query = '') => t.http('GET', `${base()}/IncomingPhoneNumbers.json${query}`);
const control = (method: string, path: string, body?: unknown) =>
  t.http(method, `/_emulator${path}`, body === undefined ? { auth: null } : { auth: null, contentType: 'application/json', body: JSON.stringify(body) });

/** the finished incoming-message delivery with that body, and the signed request the consumer received for it */
async function inboundAt(body: string) {
  const delivery = await t.emulator.control.waitForDelivery((d) => d.eventType === 'messaging.inbound' && d.params.Body === body && d.state !== 'pending', 5000);
  const request = rx.requests.find((r) => r.idempotencyToken === delivery.idempotencyToken);
  expect(request, 'the consumer got the webhook').toBeDefined();
  expect(request!.signatureValid).toBe(true);
  return { delivery, request: request! };
}

describe('IncomingPhoneNumbers', () => {
  it('creates, fetches, updates and deletes a number through the SDK, in the 2010 representation', async () => {
    const n = await t.client.incomingPhoneNumbers.create({ phoneNumber: A, smsUrl: rx.url('/sms'), smsMethod: 'GET', statusCallback: rx.url('/status') });
    expect(n.sid).toMatch(PN);
    expect(n).toMatchObject({
      accountSid: t.emulator.accountSid, phoneNumber: A, friendlyName: '(501) 712-0001', smsUrl: rx.url('/sms'), smsMethod: 'GET',
      statusCallback: rx.url('/status'), statusCallbackMethod: 'POST', smsFallbackUrl: null, smsFallbackMethod: 'POST',
      capabilities: { voice: true, sms: true, mms: true, fax: false }, apiVersion: '2010-04-01', voiceUrl: null, status: 'in-use',
      uri: `${base()}/IncomingPhoneNumbers/${n.sid}.json`,
    });
    const raw = checked(await t.http('GET', `${base()}/IncomingPhoneNumbers/${n.sid}.json`), 200);
    expect(raw.date_created).toMatch(RFC2822);
    expect(raw).toMatchObject({ sid: n.sid, phone_number: A, sms_url: rx.url('/sms') });

    const updated = await t.client.incomingPhoneNumbers(n.sid).update({ friendlyName: 'Support line', smsUrl: rx.url('/sms2'), smsMethod: 'POST', statusCallback: '' });
    expect(updated).toMatchObject({ friendlyName: 'Support line', smsUrl: rx.url('/sms2'), smsMethod: 'POST', statusCallback: null, phoneNumber: A });
    expect((await t.client.incomingPhoneNumbers(n.sid).fetch()).smsUrl).toBe(rx.url('/sms2'));
    checked(await t.http('POST', `${base()}/IncomingPhoneNumbers/${n.sid}.json`, { form: { SmsFallbackUrl: rx.url('/fallback') } }), 200);

    // by area code: a free number in it
    const byArea = checked(await buy({ AreaCode: '415' }), 201);
    expect(byArea.phone_number).toMatch(/^\+1415555\d{4}$/);
    expect(byArea.sms_url).toBeNull();

    expect(await t.client.incomingPhoneNumbers(n.sid).remove()).toBe(true);
    await expectTwilioError(t.client.incomingPhoneNumbers(n.sid).fetch(), 404, 20404);
    expectError(await t.http('DELETE', `${base()}/IncomingPhoneNumbers/${n.sid}.json`), 404, 20404);
    expect((await t.client.incomingPhoneNumbers.list()).map((x) => x.phoneNumber)).toEqual([byArea.phone_number]);
    // released, it can be bought again
    checked(await buy({ PhoneNumber: A }), 201);
  });

  it('lists oldest first with PhoneNumber / FriendlyName filters and 2010 paging', async () => {
    const numbers = ['+15017120011', '+15017120012', '+15017120013', '+15017120014', '+15017120015'];
    for (const [i, phoneNumber] of numbers.entries()) await t.client.incomingPhoneNumbers.create({ phoneNumber, friendlyName: i % 2 ? 'odd' : 'even' });
    expect((await t.client.incomingPhoneNumbers.list({ pageSize: 2 })).map((n) => n.phoneNumber)).toEqual(numbers);
    expect((await t.client.incomingPhoneNumbers.list({ phoneNumber: numbers[2] })).map((n) => n.phoneNumber)).toEqual([numbers[2]]);
    expect((await t.client.incomingPhoneNumbers.list({ friendlyName: 'odd' })).map((n) => n.phoneNumber)).toEqual([numbers[1], numbers[3]]);
    // a partial number, `*` for any digit, as Twilio documents
    expect((await t.client.incomingPhoneNumbers.list({ phoneNumber: '712001*' })).length).toBe(5);
    expect((await t.client.incomingPhoneNumbers.list({ phoneNumber: '0015' })).map((n) => n.phoneNumber)).toEqual([numbers[4]]);

    const first = checked(await listRaw('?PageSize=2'), 200, 'list');
    expect(first).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(first.incoming_phone_numbers.map((n: { phone_number: string }) => n.phone_number)).toEqual(numbers.slice(0, 2));
    expect(first.first_page_uri).toBe(`${base()}/IncomingPhoneNumbers.json?PageSize=2&Page=0`);
    expect(first.next_page_uri).toMatch(new RegExp(`^${base()}/IncomingPhoneNumbers\\.json\\?PageSize=2&Page=1&PageToken=PAPN[0-9a-f]{32}$`));
    const second = checked(await t.http('GET', first.next_page_uri), 200, 'list');
    expect(second).toMatchObject({ page: 1, start: 2, end: 3 });
    expect(second.incoming_phone_numbers.map((n: { phone_number: string }) => n.phone_number)).toEqual(numbers.slice(2, 4));
    expect(second.previous_page_uri).toMatch(/PageToken=PBPN/);
    const byOffset = checked(await listRaw('?PageSize=2&Page=2'), 200, 'list');
    expect(byOffset.incoming_phone_numbers.map((n: { phone_number: string }) => n.phone_number)).toEqual([numbers[4]]);
    expect(byOffset.next_page_uri).toBeNull();
    const filtered = checked(await listRaw('?FriendlyName=even&PageSize=1'), 200, 'list');
    expect(filtered.next_page_uri).toMatch(/^[^?]+\?FriendlyName=even&PageSize=1&Page=1&PageToken=PA/);
    expectError(await listRaw('?PageToken=nonsense'), 400, 21481);
    expectError(await listRaw('?PageSize=0'), 400, 20001);
  });

  it("refuses bad input with Twilio's codes, and stores nothing", async () => {
    checked(await buy({ PhoneNumber: A }), 201);
    const cases: [Record<string, string>, number, RegExp?][] = [
      [{}, 20001, /PhoneNumber or AreaCode/],
      [{ PhoneNumber: '5017120009' }, 21421, /E\.164/],
      [{ PhoneNumber: '+1' }, 21421],
      [{ PhoneNumber: `whatsapp:${B}` }, 21421],
      [{ PhoneNumber: A }, 21422, /not available/],
      [{ AreaCode: '41' }, 21451],
      [{ AreaCode: '015' }, 21451],
      [{ PhoneNumber: B, SmsUrl: 'not a url' }, 20001, /SmsUrl/],
      [{ PhoneNumber: B, SmsUrl: 'ftp://example.com/sms' }, 20001, /SmsUrl/],
      [{ PhoneNumber: B, StatusCallback: '/relative' }, 20001, /StatusCallback.*not an absolute URL/],
      [{ PhoneNumber: B, SmsFallbackUrl: 'http://example.com/a b' }, 20001, /SmsFallbackUrl.*spaces/],
      [{ PhoneNumber: B, SmsMethod: 'PUT' }, 20001, /SmsMethod/],
      [{ PhoneNumber: B, FriendlyName: 'x'.repeat(65) }, 50003],
    ];
    for (const [form, code, message] of cases) expectError(await buy(form), 400, code, message);
    expect((await t.client.incomingPhoneNumbers.list()).map((n) => n.phoneNumber)).toEqual([A]);
    const [owned] = await t.client.incomingPhoneNumbers.list();
    expectError(await t.http('POST', `${base()}/IncomingPhoneNumbers/${owned.sid}.json`, { form: { SmsMethod: 'PATCH' } }), 400, 20001);
    expectError(await t.http('PUT', `${base()}/IncomingPhoneNumbers/${owned.sid}.json`), 405, 20004);
    expectError(await t.http('GET', `${base()}/IncomingPhoneNumbers/PN${'0'.repeat(32)}.json`), 404, 20404);
    await expectTwilioError(t.client.incomingPhoneNumbers.create({ phoneNumber: A }), 400, 21422);
  });

  it("keeps accounts apart: Basic auth; another account's path or number is 404/20404; a number is one account's", async () => {
    const n = await t.client.incomingPhoneNumbers.create({ phoneNumber: A });
    const other = t.emulator.control.createAccount();
    const theirs = t.clientFor(other.sid, other.authToken);
    try {
      expectError(await t.http('GET', `${base()}/IncomingPhoneNumbers.json`, { auth: null }), 401, 20003);
      expectError(await t.http('GET', `${base()}/IncomingPhoneNumbers.json`, { auth: [t.emulator.accountSid, 'wrong'] }), 401, 20003);
      expectError(await t.http('GET', `/2010-04-01/Accounts/${other.sid}/IncomingPhoneNumbers.json`), 404, 20404);
      await expectTwilioError(theirs.incomingPhoneNumbers(n.sid).fetch(), 404, 20404);
      await expectTwilioError(theirs.incomingPhoneNumbers(n.sid).update({ smsUrl: rx.url('/stolen') }), 404, 20404);
      await expectTwilioError(theirs.incomingPhoneNumbers(n.sid).remove(), 404, 20404);
      expect(await theirs.incomingPhoneNumbers.list()).toEqual([]);
      await expectTwilioError(theirs.incomingPhoneNumbers.create({ phoneNumber: A }), 400, 21422);
      const mine = await theirs.incomingPhoneNumbers.create({ phoneNumber: B });
      expect(mine.accountSid).toBe(other.sid);
      expect((await t.client.incomingPhoneNumbers.list()).map((x) => x.phoneNumber)).toEqual([A]);
      await theirs.incomingPhoneNumbers(mine.sid).remove();
      // test credentials buy nothing here (only Messages create is served with them)
      expectError(await t.http('GET', `/2010-04-01/Accounts/${t.emulator.testAccountSid}/IncomingPhoneNumbers.json`, { auth: [t.emulator.testAccountSid, t.emulator.testAuthToken] }), 403, 20008);
    } finally {
      for (const x of await theirs.incomingPhoneNumbers.list()) await theirs.incomingPhoneNumbers(x.sid).remove();
    }
  });

  it('its SmsUrl is the number webhook of the control plane: one field, whichever wrote last; reset keeps numbers', async () => {
    const n = await t.client.incomingPhoneNumbers.create({ phoneNumber: A, smsUrl: rx.url('/rest') });
    const path = `/numbers/${encodeURIComponent(A)}`;
    expect((await control('GET', path)).body).toEqual({ address: A, accountSid: t.emulator.accountSid, smsUrl: rx.url('/rest'), smsMethod: 'POST' });
    expect((await control('PUT', path, { smsUrl: rx.url('/control'), smsMethod: 'GET' })).status).toBe(200);
    expect(await t.client.incomingPhoneNumbers(n.sid).fetch()).toMatchObject({ smsUrl: rx.url('/control'), smsMethod: 'GET' });
    const other = t.emulator.control.createAccount();
    expectError(await control('PUT', path, { smsUrl: rx.url('/x'), accountSid: other.sid }), 400, 20001, /phone number of account/);
    // the control plane removes the webhook, not the number
    expect((await control('DELETE', path)).status).toBe(204);
    expect(await t.client.incomingPhoneNumbers(n.sid).fetch()).toMatchObject({ smsUrl: null, phoneNumber: A });
    expect((await control('GET', path)).status).toBe(404);
    expect((await control('POST', '/reset')).status).toBe(204);
    expect((await t.client.incomingPhoneNumbers(n.sid).fetch()).phoneNumber).toBe(A);
    // a webhook configured on the control plane first is kept when the account buys the number
    await t.client.incomingPhoneNumbers(n.sid).remove();
    expect((await control('PUT', path, { smsUrl: rx.url('/configured') })).status).toBe(200);
    const bought = await t.client.incomingPhoneNumbers.create({ phoneNumber: A });
    expect(bought.smsUrl).toBe(rx.url('/configured'));
    // released, its webhook goes with it
    await t.client.incomingPhoneNumbers(bought.sid).remove();
    expect((await control('GET', path)).status).toBe(404);
  });
});

describe('a send between two owned numbers (no control plane)', () => {
  it("arrives at A's SmsUrl, set through REST, as a signed inbound webhook", async () => {
    await t.client.incomingPhoneNumbers.create({ phoneNumber: A, smsUrl: rx.url('/a') });
    await t.client.incomingPhoneNumbers.create({ phoneNumber: B });
    t.emulator.control.clearRequests();
    const sent = await t.client.messages.create({ from: B, to: A, body: 'hello A' });
    const { request } = await inboundAt('hello A');
    expect(request.path).toBe('/a');
    expect(request.params).toMatchObject({ From: B, To: A, Body: 'hello A', AccountSid: t.emulator.accountSid, SmsStatus: 'received' });
    const inboundSid = request.params.MessageSid as string;
    expect(inboundSid).not.toBe(sent.sid);
    expect(await t.client.messages(sent.sid).fetch()).toMatchObject({ direction: 'outbound-api', status: 'delivered' });
    expect(await t.client.messages(inboundSid).fetch()).toMatchObject({ direction: 'inbound', status: 'received', from: B, to: A, body: 'hello A' });
    // what the code did is all Twilio REST
    const paths = t.emulator.control.requests().requests.map((r) => r.path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.startsWith('/2010-04-01/'))).toBe(true);
  });

  it("arrives in A's conversation when B is a participant there with proxy A (and not at A's SmsUrl)", async () => {
    await t.client.incomingPhoneNumbers.create({ phoneNumber: A, smsUrl: rx.url('/a') });
    await t.client.incomingPhoneNumbers.create({ phoneNumber: B });
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'B at A' });
    await t.client.conversations.v1.conversations(conversation.sid).participants.create({ 'messagingBinding.address': B, 'messagingBinding.proxyAddress': A });
    await t.client.messages.create({ from: B, to: A, body: 'into the conversation' });
    const deadline = Date.now() + 5000;
    let bodies: (string | null)[] = [];
    while (Date.now() < deadline) {
      const messages = await t.client.conversations.v1.conversations(conversation.sid).messages.list();
      bodies = messages.map((m) => m.body);
      if (bodies.length) {
        expect(messages[0]).toMatchObject({ author: B, body: 'into the conversation' });
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(bodies).toEqual(['into the conversation']);
    expect(t.emulator.control.deliveries({ eventType: 'messaging.inbound' })).toEqual([]);
    expect(rx.requests).toEqual([]);
  });

  it('STOP from B to A opts B out of A: a later send from A to B fails 21610; START lifts it', async () => {
    await t.client.incomingPhoneNumbers.create({ phoneNumber: A, smsUrl: rx.url('/a') });
    await t.client.incomingPhoneNumbers.create({ phoneNumber: B, smsUrl: rx.url('/b') });
    await t.client.incomingPhoneNumbers.create({ phoneNumber: C });
    expect((await t.client.messages.create({ from: A, to: B, body: 'before' })).status).toBe('queued');
    await inboundAt('before');
    await t.client.messages.create({ from: B, to: A, body: 'STOP' });
    // Twilio forwards the keyword to the number's SmsUrl after acting on it
    await inboundAt('STOP');
    await expectTwilioError(t.client.messages.create({ from: A, to: B, body: 'after stop' }), 400, 21610);
    // only from A: C still reaches B
    expect((await t.client.messages.create({ from: C, to: B, body: 'from C' })).status).toBe('queued');
    await t.client.messages.create({ from: B, to: A, body: 'START' });
    await inboundAt('START');
    expect((await t.client.messages.create({ from: A, to: B, body: 'after start' })).status).toBe('queued');
    await inboundAt('after start');
  });
});

describe('a database from before IncomingPhoneNumbers', () => {
  it('keeps its number webhooks (schema 7) in the phone-number table, and numbers can be bought there', async () => {
    const file = join(dir, 'schema7.sqlite');
    const first = await startEmulator({ db: file });
    const accountSid = first.emulator.accountSid;
    await first.emulator.close();
    // turn the file back into a schema-7 database holding one number webhook
    const raw = new BetterSqlite3(file);
    raw.exec(`DROP TABLE phone_numbers;
      CREATE TABLE number_webhooks (address TEXT PRIMARY KEY, account_sid TEXT NOT NULL, sms_url TEXT NOT NULL, sms_method TEXT NOT NULL);
      INSERT INTO number_webhooks VALUES ('${A}', '${accountSid}', 'http://example.com/old', 'GET');`);
    raw.pragma('user_version = 7');
    raw.close();
    const again = await startEmulator({ db: file });
    try {
      expect(again.emulator.core.channel.numbers.find(A)).toEqual({ address: A, accountSid, smsUrl: 'http://example.com/old', smsMethod: 'GET' });
      const bought = await again.client.incomingPhoneNumbers.create({ phoneNumber: A });
      expect(bought).toMatchObject({ phoneNumber: A, smsUrl: 'http://example.com/old', smsMethod: 'GET' });
    } finally {
      await again.emulator.close();
    }
  });
});
