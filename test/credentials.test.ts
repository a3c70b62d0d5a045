import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS } from './support/spec.js';

const t = useEmulator();

const creds = () => t.client.conversations.v1.credentials;
const CR = /^CR[0-9a-f]{32}$/;
const CERT = '-----BEGIN CERTIFICATE-----\nMIIFAKECERTIFICATEBODY\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIFAKEPRIVATEKEYBODY\n-----END RSA PRIVATE KEY-----';
const SECRET = 'AAAAfcmServerKeyThatMustNeverLeak';
const json = (body: object) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });

/** Every way a secret could leak: no answer's raw text may contain any of these. */
function expectNoSecrets(text: string) {
  for (const secret of ['MIIFAKECERTIFICATEBODY', 'MIIFAKEPRIVATEKEYBODY', SECRET, 'apiKeyNeverShown']) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/"(certificate|private_key|secret|api_key)"/);
}

describe('Push credentials', () => {
  it('creates an apn credential from Certificate + PrivateKey and never echoes them', async () => {
    const c = await creds().create({ type: 'apn', friendlyName: 'ios', certificate: CERT, privateKey: KEY, sandbox: true });
    expect(c.sid).toMatch(CR);
    expect(c.accountSid).toBe(t.emulator.accountSid);
    expect(c.type).toBe('apn');
    expect(c.friendlyName).toBe('ios');
    // Twilio spells the flag as text
    expect(c.sandbox).toBe('true');
    expect(c.url).toBe(`${t.emulator.url}/v1/Credentials/${c.sid}`);
    const raw = await t.http('GET', `/v1/Credentials/${c.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ sid: c.sid, type: 'apn', friendly_name: 'ios', sandbox: 'true' });
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expectNoSecrets(raw.text);
    const made = await t.http('POST', '/v1/Credentials', { form: { Type: 'apn', Certificate: CERT, PrivateKey: KEY, Sandbox: 'false' } });
    expect(made.status).toBe(201);
    expect(made.body.sandbox).toBe('false');
    expect(made.body.friendly_name).toBeNull();
    expectNoSecrets(made.text);
  });

  it('creates an fcm credential from Secret; sandbox stays null when not given', async () => {
    const raw = await t.http('POST', '/v1/Credentials', { form: { Type: 'fcm', FriendlyName: 'android', Secret: SECRET, ApiKey: 'apiKeyNeverShown' } });
    expect(raw.status).toBe(201);
    expect(raw.body.sid).toMatch(CR);
    expect(raw.body).toMatchObject({ type: 'fcm', friendly_name: 'android', sandbox: null });
    expectNoSecrets(raw.text);
    const list = await t.http('GET', '/v1/Credentials');
    expect(list.body.credentials.map((c: { sid: string }) => c.sid)).toEqual([raw.body.sid]);
    expectNoSecrets(list.text);
    const updated = await t.http('POST', `/v1/Credentials/${raw.body.sid}`, { form: { Secret: 'AnotherSecretNeverShown' } });
    expect(updated.status).toBe(200);
    expect(updated.text).not.toContain('AnotherSecretNeverShown');
    expectNoSecrets(updated.text);
  });

  it('refuses a credential without its secrets, or without Type (400/20001)', async () => {
    await expectTwilioError(creds().create({ type: 'apn', certificate: CERT }), 400, 20001);
    await expectTwilioError(creds().create({ type: 'apn', privateKey: KEY }), 400, 20001);
    await expectTwilioError(creds().create({ type: 'fcm' }), 400, 20001);
    await expectTwilioError(creds().create({ type: 'gcm', friendlyName: 'old' }), 400, 20001);
    const noType = await t.http('POST', '/v1/Credentials', { form: { Secret: SECRET } });
    expect(noType.status).toBe(400);
    expect(noType.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
    expect(noType.body.message).toMatch(/Type/);
    const badType = await t.http('POST', '/v1/Credentials', { form: { Type: 'sms', Secret: SECRET } });
    expect(badType.status).toBe(400);
    expect(await creds().list()).toEqual([]);
  });

  it('updates friendly name, sandbox and secrets; switching type needs the new secrets', async () => {
    const c = await creds().create({ type: 'fcm', friendlyName: 'before', secret: SECRET });
    const u = await creds()(c.sid).update({ friendlyName: 'after', sandbox: false });
    expect(u.friendlyName).toBe('after');
    expect(u.sandbox).toBe('false');
    expect(u.type).toBe('fcm');
    // to apn without Certificate/PrivateKey: refused, nothing changed
    await expectTwilioError(creds()(c.sid).update({ type: 'apn' }), 400, 20001);
    expect((await creds()(c.sid).fetch()).type).toBe('fcm');
    const apn = await creds()(c.sid).update({ type: 'apn', certificate: CERT, privateKey: KEY });
    expect(apn.type).toBe('apn');
    expect(apn.friendlyName).toBe('after');
  });

  it('lists, pages and deletes', async () => {
    const a = await creds().create({ type: 'fcm', friendlyName: 'a', secret: SECRET });
    const b = await creds().create({ type: 'gcm', friendlyName: 'b', secret: SECRET });
    const c = await creds().create({ type: 'apn', friendlyName: 'c', certificate: CERT, privateKey: KEY });
    expect((await creds().list()).map((x) => x.friendlyName)).toEqual(['a', 'b', 'c']);
    const page = await creds().page({ pageSize: 2 });
    expect(page.instances.map((x) => x.sid)).toEqual([a.sid, b.sid]);
    expect((await page.nextPage())?.instances.map((x) => x.sid)).toEqual([c.sid]);
    expect(await creds()(b.sid).remove()).toBe(true);
    await expectTwilioError(creds()(b.sid).fetch(), 404, 20404);
    await expectTwilioError(creds()(b.sid).remove(), 404, 20404);
    await expectTwilioError(creds()(b.sid).update({ friendlyName: 'ghost' }), 404, 20404);
    expect((await creds().list()).map((x) => x.sid)).toEqual([a.sid, c.sid]);
  });

  it("keeps another account's credentials out of reach (404)", async () => {
    const mine = await creds().create({ type: 'fcm', friendlyName: 'mine', secret: SECRET });
    const other = (await t.http('POST', '/_emulator/accounts', json({}))).body;
    const theirs = t.clientFor(other.accountSid, other.authToken).conversations.v1.credentials;
    expect(await theirs.list()).toEqual([]);
    await expectTwilioError(theirs(mine.sid).fetch(), 404, 20404);
    await expectTwilioError(theirs(mine.sid).update({ friendlyName: 'stolen' }), 404, 20404);
    await expectTwilioError(theirs(mine.sid).remove(), 404, 20404);
    expect((await creds()(mine.sid).fetch()).friendlyName).toBe('mine');
  });
});
