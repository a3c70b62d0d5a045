import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { SID } from './support/spec.js';

const t = useEmulator();

describe('Conversation Services', () => {
  it('every account starts with its default service', async () => {
    const services = await t.client.conversations.v1.services.list();
    expect(services.map((s) => s.sid)).toEqual([t.emulator.defaultServiceSid]);
    expect(services[0].friendlyName).toBe('Default Conversations Service');
  });

  it('creates, fetches and lists services with Twilio fields and links', async () => {
    const s = await t.client.conversations.v1.services.create({ friendlyName: 'Tenant A' });
    expect(s.sid).toMatch(SID.service);
    expect(s.accountSid).toBe(t.emulator.accountSid);
    expect(s.friendlyName).toBe('Tenant A');
    expect(s.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}`);
    expect(s.links).toEqual({
      conversations: `${s.url}/Conversations`,
      users: `${s.url}/Users`,
      roles: `${s.url}/Roles`,
      bindings: `${s.url}/Bindings`,
      configuration: `${s.url}/Configuration`,
      participant_conversations: `${s.url}/ParticipantConversations`,
      conversation_with_participants: `${s.url}/ConversationWithParticipants`,
    });
    expect((await t.client.conversations.v1.services(s.sid).fetch()).friendlyName).toBe('Tenant A');
    const listed = await t.client.conversations.v1.services.list();
    expect(listed.map((x) => x.sid)).toEqual([t.emulator.defaultServiceSid, s.sid]);
  });

  it('requires FriendlyName (400/20001, Twilio wording)', async () => {
    const r = await t.http('POST', '/v1/Services', { form: {} });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      code: 20001,
      message: 'Missing required parameter FriendlyName in the post body',
      more_info: 'https://www.twilio.com/docs/errors/20001',
      status: 400,
    });
  });

  it('answers 404 for an unknown or malformed service SID', async () => {
    await expectTwilioError(t.client.conversations.v1.services('IS' + '0'.repeat(32)).fetch(), 404, 20404, `/Services/IS${'0'.repeat(32)}`);
    await expectTwilioError(t.client.conversations.v1.services('IS' + '0'.repeat(32)).conversations.list(), 404, 20404);
  });

  it('keeps service-scoped conversations apart from the default service', async () => {
    const s = await t.client.conversations.v1.services.create({ friendlyName: 'scoped' });
    const scoped = t.client.conversations.v1.services(s.sid);
    const c = await scoped.conversations.create({ uniqueName: 'shared-name' });
    expect(c.chatServiceSid).toBe(s.sid);
    expect(c.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Conversations/${c.sid}`);
    // the same UniqueName is free in the default service
    const d = await t.client.conversations.v1.conversations.create({ uniqueName: 'shared-name' });
    expect(d.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect((await scoped.conversations('shared-name').fetch()).sid).toBe(c.sid);
    expect((await t.client.conversations.v1.conversations('shared-name').fetch()).sid).toBe(d.sid);
    // /v1/Conversations serves only the default service
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).fetch(), 404, 20404);
    expect((await scoped.conversations.list()).map((x) => x.sid)).toEqual([c.sid]);
    const m = await scoped.conversations(c.sid).messages.create({ body: 'scoped message' });
    const raw = await t.http('GET', `/v1/Services/${s.sid}/Conversations/${c.sid}/Messages/${m.sid}`);
    expect(raw.body.chat_service_sid).toBe(s.sid);
    expect(raw.body.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Conversations/${c.sid}/Messages/${m.sid}`);
  });

  it('deletes a service with everything in it, but not the default service', async () => {
    const s = await t.client.conversations.v1.services.create({ friendlyName: 'doomed' });
    const c = await t.client.conversations.v1.services(s.sid).conversations.create({});
    await t.client.conversations.v1.services(s.sid).conversations(c.sid).participants.create({ identity: 'bob' });
    await t.client.conversations.v1.services(s.sid).remove();
    await expectTwilioError(t.client.conversations.v1.services(s.sid).fetch(), 404, 20404);
    await expectTwilioError(t.client.conversations.v1.services(s.sid).conversations(c.sid).fetch(), 404, 20404);
    const leftovers = t.emulator.core.db.get('SELECT count(*) AS n FROM participants WHERE chat_service_sid = ?', s.sid);
    expect(leftovers?.n).toBe(0);
    await expectTwilioError(t.client.conversations.v1.services(t.emulator.defaultServiceSid).remove(), 400, 50105);
    expect((await t.client.conversations.v1.services(t.emulator.defaultServiceSid).fetch()).sid).toBe(t.emulator.defaultServiceSid);
  });
});
