import { describe, expect, it } from 'vitest';
import type { PushBindingInput } from '../src/emulator/core.js';
import { expectTwilioError, useEmulator, type HttpAnswer } from './support/emulator.js';
import { ISO_SECONDS } from './support/spec.js';

const t = useEmulator();

const BS = /^BS[0-9a-f]{32}$/;
const ALL_TYPES = ['new_message', 'added_to_conversation', 'removed_from_conversation'];
const json = (body: object) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });
const bindingsOf = (service = t.emulator.defaultServiceSid) => t.client.conversations.v1.services(service).bindings;

async function credential(type: 'apn' | 'fcm' = 'fcm'): Promise<string> {
  const c = await t.client.conversations.v1.credentials.create(
    type === 'apn' ? { type, certificate: 'CERT', privateKey: 'KEY' } : { type, secret: 'SECRET' },
  );
  return c.sid;
}

type PushInput = PushBindingInput;

function push(input: PushInput): Promise<HttpAnswer> {
  return t.http('POST', '/_emulator/push-bindings', json(input));
}

async function bind(input: PushInput & { credentialSid: string }): Promise<string> {
  const r = await push({ chatServiceSid: t.emulator.defaultServiceSid, identity: 'alice', bindingType: 'fcm', address: 'device-token', ...input });
  expect(r.status).toBe(201);
  return r.body.sid as string;
}

describe('Push bindings', () => {
  it('creates a binding through the control plane and serves it over REST', async () => {
    const cr = await credential('apn');
    const r = await push({ chatServiceSid: t.emulator.defaultServiceSid, identity: 'alice', bindingType: 'apn', address: 'apns-token-1', credentialSid: cr });
    expect(r.status).toBe(201);
    expect(r.body.sid).toMatch(BS);
    expect(r.body).toMatchObject({ identity: 'alice', binding_type: 'apn', endpoint: 'apns-token-1', credential_sid: cr, message_types: ALL_TYPES });

    const b = await bindingsOf()(r.body.sid).fetch();
    expect(b.sid).toBe(r.body.sid);
    expect(b.accountSid).toBe(t.emulator.accountSid);
    expect(b.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(b.credentialSid).toBe(cr);
    expect(b.endpoint).toBe('apns-token-1');
    expect(b.identity).toBe('alice');
    expect(b.bindingType).toBe('apn');
    expect(b.messageTypes).toEqual(ALL_TYPES);
    expect(b.url).toBe(`${t.emulator.url}/v1/Services/${t.emulator.defaultServiceSid}/Bindings/${b.sid}`);
    const raw = await t.http('GET', `/v1/Services/${t.emulator.defaultServiceSid}/Bindings/${b.sid}`);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect((await bindingsOf().list()).map((x) => x.sid)).toEqual([b.sid]);
  });

  it('keeps the given message types', async () => {
    const cr = await credential();
    const sid = await bind({ credentialSid: cr, messageTypes: ['new_message'] });
    expect((await bindingsOf()(sid).fetch()).messageTypes).toEqual(['new_message']);
  });

  it('filters the list by BindingType and Identity, each repeatable', async () => {
    const fcm = await credential('fcm');
    const apn = await credential('apn');
    const a1 = await bind({ credentialSid: fcm, identity: 'alice', bindingType: 'fcm', address: 'a-android' });
    const a2 = await bind({ credentialSid: apn, identity: 'alice', bindingType: 'apn', address: 'a-ios' });
    const b1 = await bind({ credentialSid: apn, identity: 'bob', bindingType: 'apn', address: 'b-ios' });
    const c1 = await bind({ credentialSid: fcm, identity: 'carol', bindingType: 'gcm', address: 'c-android' });
    const sids = async (opts: { bindingType?: ('apn' | 'gcm' | 'fcm')[]; identity?: string[] }) => (await bindingsOf().list(opts)).map((x) => x.sid);
    expect(await sids({})).toEqual([a1, a2, b1, c1]);
    expect(await sids({ bindingType: ['apn'] })).toEqual([a2, b1]);
    expect(await sids({ bindingType: ['fcm', 'gcm'] })).toEqual([a1, c1]);
    expect(await sids({ identity: ['alice'] })).toEqual([a1, a2]);
    expect(await sids({ identity: ['bob', 'carol'] })).toEqual([b1, c1]);
    expect(await sids({ identity: ['alice', 'bob'], bindingType: ['apn'] })).toEqual([a2, b1]);
    expect(await sids({ identity: ['nobody'] })).toEqual([]);
    const raw = await t.http('GET', `/v1/Services/${t.emulator.defaultServiceSid}/Bindings?Identity=bob&Identity=alice&BindingType=fcm`);
    expect(raw.body.bindings.map((x: { sid: string }) => x.sid)).toEqual([a1]);
  });

  it('keeps bindings per service and deletes them', async () => {
    const cr = await credential();
    const other = await t.client.conversations.v1.services.create({ friendlyName: 'other' });
    const mine = await bind({ credentialSid: cr });
    const theirs = await bind({ credentialSid: cr, chatServiceSid: other.sid });
    expect((await bindingsOf(other.sid).list()).map((x) => x.sid)).toEqual([theirs]);
    await expectTwilioError(bindingsOf(other.sid)(mine).fetch(), 404, 20404);
    await expectTwilioError(bindingsOf(other.sid)(mine).remove(), 404, 20404);
    expect(await bindingsOf()(mine).remove()).toBe(true);
    await expectTwilioError(bindingsOf()(mine).fetch(), 404, 20404);
    expect(await bindingsOf().list()).toEqual([]);
    expect((await bindingsOf(other.sid).list()).map((x) => x.sid)).toEqual([theirs]);
    // deleting the service takes its bindings along
    await t.client.conversations.v1.services(other.sid).remove();
    expect(t.emulator.core.db.get('SELECT count(*) AS n FROM bindings WHERE chat_service_sid = ?', other.sid)?.n).toBe(0);
  });

  it('refuses an unknown credential or service (404) and a bad bindingType (400)', async () => {
    const cr = await credential();
    const base = { chatServiceSid: t.emulator.defaultServiceSid, identity: 'alice', bindingType: 'fcm', address: 'tok', credentialSid: cr };
    const noCred = await push({ ...base, credentialSid: 'CR' + '0'.repeat(32) });
    expect(noCred.status).toBe(404);
    expect(noCred.body.code).toBe(20404);
    const noService = await push({ ...base, chatServiceSid: 'IS' + '0'.repeat(32) });
    expect(noService.status).toBe(404);
    expect(noService.body.code).toBe(20404);
    const badType = await push({ ...base, bindingType: 'sms' });
    expect(badType.status).toBe(400);
    expect(badType.body.code).toBe(20001);
    // a credential of another account does not serve this account's service
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    const foreign = await t.clientFor(other.accountSid, other.authToken).conversations.v1.credentials.create({ type: 'fcm', secret: 's' });
    expect((await push({ ...base, credentialSid: foreign.sid })).status).toBe(404);
    expect(await bindingsOf().list()).toEqual([]);
  });

  it('refuses a binding with a missing field (400)', async () => {
    const cr = await credential();
    const base = { chatServiceSid: t.emulator.defaultServiceSid, identity: 'alice', bindingType: 'fcm', address: 'tok', credentialSid: cr };
    for (const key of Object.keys(base) as (keyof typeof base)[]) {
      const r = await push({ ...base, [key]: undefined });
      expect(r.status, key).toBe(400);
      expect(r.body.code).toBe(20001);
      expect(r.body.message).toContain(key);
    }
    expect(await bindingsOf().list()).toEqual([]);
  });
});
