import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { SID } from './support/spec.js';

const t = useEmulator();

describe('Authentication like Twilio', () => {
  it('answers 401/20003 with WWW-Authenticate when credentials are missing', async () => {
    const r = await t.http('GET', '/v1/Conversations', { auth: null });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expect(r.body).toEqual({ code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
  });

  it('answers 401 to a wrong token through the SDK, and to unknown paths before 404', async () => {
    const wrong = t.clientFor(t.emulator.accountSid, 'not-the-token');
    await expectTwilioError(wrong.conversations.v1.conversations.list(), 401, 20003, 'Authenticate');
    const r = await t.http('GET', '/v1/NoSuchThing', { auth: [t.emulator.accountSid, 'nope'] });
    expect(r.status).toBe(401);
    const found = await t.http('GET', '/v1/NoSuchThing');
    expect(found.status).toBe(404);
    expect(found.body.code).toBe(20404);
  });

  it('accepts an API key (SK…:secret) of the account and stops the moment it is deleted', async () => {
    const created = await t.http('POST', `/_emulator/accounts/${t.emulator.accountSid}/keys`, {
      body: JSON.stringify({ friendlyName: 'ci' }),
      contentType: 'application/json',
      auth: null,
    });
    expect(created.status).toBe(201);
    expect(created.body.sid).toMatch(/^SK[0-9a-f]{32}$/);
    const keyed = t.clientFor(created.body.sid, created.body.secret, t.emulator.accountSid);
    const c = await keyed.conversations.v1.conversations.create({ friendlyName: 'via key' });
    expect(c.accountSid).toBe(t.emulator.accountSid);
    await expectTwilioError(t.clientFor(created.body.sid, 'wrong', t.emulator.accountSid).conversations.v1.conversations.list(), 401, 20003);
    const deleted = await t.http('DELETE', `/_emulator/accounts/${t.emulator.accountSid}/keys/${created.body.sid}`, { auth: null });
    expect(deleted.status).toBe(204);
    await expectTwilioError(keyed.conversations.v1.conversations.list(), 401, 20003);
  });

  it('keeps accounts apart: another account sees 404 for these SIDs and its own default service', async () => {
    const mine = await t.client.conversations.v1.conversations.create({ uniqueName: 'mine' });
    const m = await t.client.conversations.v1.conversations(mine.sid).messages.create({ body: 'secret' });
    const other = await t.http('POST', '/_emulator/accounts', { body: JSON.stringify({ friendlyName: 'other' }), contentType: 'application/json', auth: null });
    expect(other.status).toBe(201);
    expect(other.body.accountSid).toMatch(SID.account);
    expect(other.body.defaultServiceSid).toMatch(SID.service);
    const theirs = t.clientFor(other.body.accountSid, other.body.authToken);
    await expectTwilioError(theirs.conversations.v1.conversations(mine.sid).fetch(), 404, 20404);
    await expectTwilioError(theirs.conversations.v1.conversations('mine').fetch(), 404, 20404);
    await expectTwilioError(theirs.conversations.v1.conversations(mine.sid).messages(m.sid).fetch(), 404, 20404);
    await expectTwilioError(theirs.conversations.v1.services(t.emulator.defaultServiceSid).fetch(), 404, 20404);
    expect(await theirs.conversations.v1.conversations.list()).toEqual([]);
    // The same UniqueName is free in another account.
    const same = await theirs.conversations.v1.conversations.create({ uniqueName: 'mine' });
    expect(same.chatServiceSid).toBe(other.body.defaultServiceSid);
    // The first account's token does not open the second account.
    await expectTwilioError(t.clientFor(other.body.accountSid, t.emulator.authToken).conversations.v1.conversations.list(), 401, 20003);
  });

  it('rejects a malformed account in the control plane with a Twilio envelope', async () => {
    const r = await t.http('POST', '/_emulator/accounts', { body: JSON.stringify({ accountSid: 'ACnope' }), contentType: 'application/json', auth: null });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(20001);
    expect(r.body.more_info).toBe('https://www.twilio.com/docs/errors/20001');
  });
});
