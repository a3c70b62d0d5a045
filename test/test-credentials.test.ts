/**
 * Test credentials as at Twilio (twilio.com/docs/iam/test-credentials): every account has a second pair; with it,
 * 2010 Messages create honours the magic From and To numbers and stores, sends and calls back nothing; every other
 * resource answers 403 / 20008. Driven through twilio-node clients built on the test pair.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectTwilioError, startEmulator, useEmulator, type TwilioClient } from './support/emulator.js';
import { useReceiver } from './support/webhook-receiver.js';

const require = createRequire(import.meta.url);
const BetterSqlite3 = require('better-sqlite3') as typeof import('better-sqlite3');

const t = useEmulator();
const rx = useReceiver(() => t.emulator.authToken, 'test-credentials');
const dir = mkdtempSync(join(tmpdir(), 'tce-test-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALID_FROM = '+15005550006';
const HANDSET = '+15558675310';
const SID = /^AC[0-9a-f]{32}$/;
const testClient = (): TwilioClient => t.clientFor(t.emulator.testAccountSid, t.emulator.testAuthToken);
const stored = (table: string) => Number(t.emulator.core.db.get(`SELECT count(*) AS n FROM ${table}`)?.n);
const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });

describe('every account has a test pair', () => {
  it('the handle, POST and GET /_emulator/accounts name it; a given pair is kept; the same live pair derives the same test pair', async () => {
    expect(t.emulator.testAccountSid).toMatch(SID);
    expect(t.emulator.testAccountSid).not.toBe(t.emulator.accountSid);
    expect(t.emulator.testAuthToken).toMatch(/^[0-9a-f]{32}$/);
    const mine = await t.http('GET', `/_emulator/accounts/${t.emulator.accountSid}`, { auth: null });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      accountSid: t.emulator.accountSid, authToken: t.emulator.authToken, defaultServiceSid: t.emulator.defaultServiceSid,
      testAccountSid: t.emulator.testAccountSid, testAuthToken: t.emulator.testAuthToken,
    });
    const created = await t.http('POST', '/_emulator/accounts', json({}));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ accountSid: expect.stringMatching(SID), authToken: expect.any(String), defaultServiceSid: expect.any(String), testAccountSid: expect.stringMatching(SID), testAuthToken: expect.any(String) });
    expect((await t.http('GET', `/_emulator/accounts/${created.body.accountSid}`, { auth: null })).body).toEqual(created.body);
    expect((await t.http('GET', '/_emulator/accounts', { auth: null })).text).not.toContain(created.body.testAuthToken);

    const given = { accountSid: `AC${'4'.repeat(32)}`, authToken: 'live', testAccountSid: `AC${'5'.repeat(32)}`, testAuthToken: 'test' };
    expect((await t.http('POST', '/_emulator/accounts', json(given))).body).toMatchObject(given);
    expect((await t.http('POST', '/_emulator/accounts', json({ testAccountSid: given.testAccountSid }))).body).toMatchObject({ status: 400, code: 20001 });
    expect((await t.http('POST', '/_emulator/accounts', json({ accountSid: given.testAccountSid }))).body).toMatchObject({ status: 400, code: 20001 });
    expect((await t.http('POST', '/_emulator/accounts', json({ testAccountSid: 'ACnope' }))).body).toMatchObject({ status: 400, code: 20001 });
    expect((await t.http('GET', `/_emulator/accounts/AC${'9'.repeat(32)}`, { auth: null })).body).toMatchObject({ status: 404, code: 20404 });

    const twin = await startEmulator({ accountSid: t.emulator.accountSid, authToken: t.emulator.authToken });
    try {
      expect([twin.emulator.testAccountSid, twin.emulator.testAuthToken]).toEqual([t.emulator.testAccountSid, t.emulator.testAuthToken]);
    } finally {
      await twin.emulator.close();
    }
  });

  it('a database written before test credentials gets them at start, and they work', async () => {
    const file = join(dir, 'schema5.sqlite');
    const first = await startEmulator({ db: file, accountSid: `AC${'6'.repeat(32)}`, authToken: 'old-db' });
    const expected = [first.emulator.testAccountSid, first.emulator.testAuthToken];
    await first.emulator.close();
    // turn the file back into a schema-5 database: no test columns (nor the tables of later versions)
    const raw = new BetterSqlite3(file);
    raw.exec('DROP TABLE phone_numbers; DROP TABLE messaging_service_senders; DROP INDEX accounts_test_account_sid; ALTER TABLE accounts DROP COLUMN test_auth_token; ALTER TABLE accounts DROP COLUMN test_account_sid;');
    raw.pragma('user_version = 5');
    raw.close();
    const again = await startEmulator({ db: file });
    try {
      expect([again.emulator.testAccountSid, again.emulator.testAuthToken]).toEqual(expected);
      const m = await again.clientFor(expected[0], expected[1]).messages.create({ from: VALID_FROM, to: HANDSET, body: 'migrated' });
      expect(m).toMatchObject({ status: 'queued', accountSid: expected[0] });
    } finally {
      await again.emulator.close();
    }
  });
});

describe('2010 Messages create with the test pair', () => {
  it('answers 201 queued under the test AccountSid, and stores, sends and calls back nothing', async () => {
    const m = await testClient().messages.create({ from: VALID_FROM, to: HANDSET, body: 'pretend', statusCallback: rx.url('/never') });
    expect(m).toMatchObject({
      accountSid: t.emulator.testAccountSid, status: 'queued', from: VALID_FROM, to: HANDSET, body: 'pretend', direction: 'outbound-api',
      errorCode: null, messagingServiceSid: null, apiVersion: '2010-04-01',
      uri: `/2010-04-01/Accounts/${t.emulator.testAccountSid}/Messages/${m.sid}.json`,
    });
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(stored('channel_messages')).toBe(0);
    expect(stored('webhook_deliveries')).toBe(0);
    // not fetchable: test credentials may only create, the live pair does not own the test AccountSid's path
    await expectTwilioError(testClient().messages(m.sid).fetch(), 403, 20008, 'Resource not accessible with Test Account Credentials');
    await expectTwilioError(t.client.messages(m.sid).fetch(), 404, 20404);
    expect(await t.client.messages.list()).toEqual([]);
  });

  it.each([
    ['From +15005550001 (invalid)', '+15005550001', HANDSET, 21212],
    ['From +15005550007 (not owned)', '+15005550007', HANDSET, 21606],
    ['From +15005550008 (queue full)', '+15005550008', HANDSET, 21611],
    ['any other From', '+15017122661', HANDSET, 21606],
    ['To +15005550001 (invalid)', VALID_FROM, '+15005550001', 21211],
    ['To +15005550002 (unreachable)', VALID_FROM, '+15005550002', 21612],
    ['To +15005550003 (no geo permission)', VALID_FROM, '+15005550003', 21408],
    ['To +15005550004 (blocked)', VALID_FROM, '+15005550004', 21610],
    ['To +15005550009 (not mobile)', VALID_FROM, '+15005550009', 21614],
  ])('%s answers 400 / its code, nothing stored', async (_case, from, to, code) => {
    await expectTwilioError(testClient().messages.create({ from, to, body: 'magic' }), 400, code);
    expect(stored('channel_messages')).toBe(0);
  });

  it('validates input as with live credentials, and refuses a Messaging Service with 403 / 20008', async () => {
    await expectTwilioError(testClient().messages.create({ from: VALID_FROM, to: '5558675310', body: 'x' }), 400, 21211);
    await expectTwilioError(testClient().messages.create({ from: VALID_FROM, to: HANDSET }), 400, 21602);
    await expectTwilioError(testClient().messages.create({ messagingServiceSid: `MG${'a'.repeat(32)}`, to: HANDSET, body: 'x' }), 403, 20008);
    // a wrong test token is no credential at all
    await expectTwilioError(t.clientFor(t.emulator.testAccountSid, 'wrong').messages.create({ from: VALID_FROM, to: HANDSET, body: 'x' }), 401, 20003);
    // the test pair cannot send on the live AccountSid's path
    const live = await t.http('POST', `/2010-04-01/Accounts/${t.emulator.accountSid}/Messages.json`, {
      form: { From: VALID_FROM, To: HANDSET, Body: 'x' }, auth: [t.emulator.testAccountSid, t.emulator.testAuthToken],
    });
    expect(live.body).toMatchObject({ status: 404, code: 20404 });
    expect(stored('channel_messages')).toBe(0);
  });
});

describe('every other resource with the test pair', () => {
  it('answers 403 / 20008: Conversations, Services, Messages list, fetch and delete', async () => {
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'live only' });
    const test = testClient();
    await expectTwilioError(test.conversations.v1.conversations.list(), 403, 20008);
    await expectTwilioError(test.conversations.v1.conversations.create({ friendlyName: 'nope' }), 403, 20008);
    await expectTwilioError(test.conversations.v1.conversations(c.sid).fetch(), 403, 20008);
    await expectTwilioError(test.conversations.v1.services.list(), 403, 20008);
    await expectTwilioError(test.messages.list(), 403, 20008);
    const sent = await t.client.messages.create({ from: '+15017122661', to: HANDSET, body: 'live' });
    const remove = await t.http('DELETE', `/2010-04-01/Accounts/${t.emulator.testAccountSid}/Messages/${sent.sid}.json`, { auth: [t.emulator.testAccountSid, t.emulator.testAuthToken] });
    expect(remove.body).toMatchObject({ status: 403, code: 20008, message: 'Resource not accessible with Test Account Credentials' });
    expect((await t.client.conversations.v1.conversations.list()).map((x) => x.sid)).toEqual([c.sid]);
    expect((await t.client.messages(sent.sid).fetch()).sid).toBe(sent.sid);
  });
});
