import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID, specPattern } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const USER_SID = specPattern('conversations.v1.user', 'sid');
const ROLE_SID = /^RL[0-9a-f]{32}$/;
const v1 = () => t.client.conversations.v1;
const users = () => v1().users;
const svc = (sid: string) => v1().services(sid);

async function roleSids(serviceSid: string): Promise<Record<string, string>> {
  const roles = await svc(serviceSid).roles.list();
  return Object.fromEntries(roles.map((r) => [r.friendlyName, r.sid]));
}

describe('Users', () => {
  it('creates a user with Twilio fields, the default service role and a user_conversations link', async () => {
    const u = await users().create({ identity: 'alice', friendlyName: 'Alice', attributes: JSON.stringify({ tier: 'gold' }) });
    expect(u.sid).toMatch(USER_SID);
    expect(u.sid).toMatch(/^US[0-9a-f]{32}$/);
    expect(u.accountSid).toBe(t.emulator.accountSid);
    expect(u.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(u.identity).toBe('alice');
    expect(u.friendlyName).toBe('Alice');
    expect(JSON.parse(u.attributes)).toEqual({ tier: 'gold' });
    const config = await svc(t.emulator.defaultServiceSid).configuration().fetch();
    expect(u.roleSid).toBe(config.defaultChatServiceRoleSid);
    expect(u.roleSid).toBe((await roleSids(t.emulator.defaultServiceSid))['service user']);
    // no client SDK connects to the emulator, so reachability stays unknown
    expect(u.isOnline).toBeNull();
    expect(u.isNotifiable).toBeNull();
    expect(u.url).toBe(`${t.emulator.url}/v1/Users/${u.sid}`);
    expect(u.links).toEqual({ user_conversations: `${t.emulator.url}/v1/Users/${u.sid}/Conversations` });
    const raw = await t.http('GET', `/v1/Users/${u.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.date_updated).toBe(raw.body.date_created);
    expect(raw.body.attributes).toBe('{"tier":"gold"}');
  });

  it('defaults attributes to "{}" and friendly_name to null', async () => {
    const u = await users().create({ identity: 'bob' });
    expect(u.attributes).toBe('{}');
    expect(u.friendlyName).toBeNull();
  });

  it('requires Identity (400/20001, Twilio wording) and refuses an empty one', async () => {
    const r = await t.http('POST', '/v1/Users', { form: { FriendlyName: 'nobody' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      code: 20001,
      message: 'Missing required parameter Identity in the post body',
      more_info: 'https://www.twilio.com/docs/errors/20001',
      status: 400,
    });
    const empty = await t.http('POST', '/v1/Users', { form: { Identity: '' } });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe(20001);
    expect(await users().list()).toEqual([]);
  });

  it('refuses a duplicate identity in the same service (409/50201) but allows it in another', async () => {
    const first = await users().create({ identity: 'alice' });
    await expectTwilioError(users().create({ identity: 'alice' }), 409, 50201, /alice/);
    expect((await users().list()).map((u) => u.sid)).toEqual([first.sid]);
    const s = await v1().services.create({ friendlyName: 'other' });
    const other = await svc(s.sid).users.create({ identity: 'alice' });
    expect(other.sid).not.toBe(first.sid);
    expect(other.chatServiceSid).toBe(s.sid);
    expect(other.roleSid).toBe((await roleSids(s.sid))['service user']);
    expect(other.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Users/${other.sid}`);
  });

  it('fetches by SID and by identity; unknown → 404/20404', async () => {
    const u = await users().create({ identity: 'carol@example.com' });
    expect((await users()(u.sid).fetch()).identity).toBe('carol@example.com');
    expect((await users()('carol@example.com').fetch()).sid).toBe(u.sid);
    await expectTwilioError(users()('nobody').fetch(), 404, 20404);
    await expectTwilioError(users()('US' + '0'.repeat(32)).fetch(), 404, 20404);
    // the user lives in the default service; another service does not see it
    const s = await v1().services.create({ friendlyName: 'other' });
    await expectTwilioError(svc(s.sid).users(u.sid).fetch(), 404, 20404);
    expect((await svc(t.emulator.defaultServiceSid).users('carol@example.com').fetch()).sid).toBe(u.sid);
  });

  it('updates FriendlyName, Attributes and RoleSid (a service role of this service)', async () => {
    const u = await users().create({ identity: 'dave' });
    const roles = await roleSids(t.emulator.defaultServiceSid);
    t.emulator.clock.advance(5);
    const updated = await users()(u.sid).update({ friendlyName: 'Dave', attributes: '{"a":1}', roleSid: roles['service admin'] });
    expect(updated.friendlyName).toBe('Dave');
    expect(updated.attributes).toBe('{"a":1}');
    expect(updated.roleSid).toBe(roles['service admin']);
    expect(updated.dateUpdated.getTime() - updated.dateCreated.getTime()).toBe(5_000);
    const fetched = await users()('dave').fetch();
    expect(fetched.roleSid).toBe(roles['service admin']);
    expect(fetched.identity).toBe('dave');
  });

  it('refuses a conversation-type role, an unknown role and another service\'s role as RoleSid (400)', async () => {
    const roles = await roleSids(t.emulator.defaultServiceSid);
    await expectTwilioError(users().create({ identity: 'erin', roleSid: roles['channel user'] }), 400, 20001, /RoleSid/);
    expect(await users().list()).toEqual([]);
    const u = await users().create({ identity: 'erin', roleSid: roles['service admin'] });
    expect(u.roleSid).toBe(roles['service admin']);
    await expectTwilioError(users()(u.sid).update({ roleSid: roles['channel admin'] }), 400, 20001, /RoleSid/);
    await expectTwilioError(users()(u.sid).update({ roleSid: 'RL' + 'f'.repeat(32) }), 400, 20001, /RoleSid/);
    const s = await v1().services.create({ friendlyName: 'other' });
    const foreign = (await roleSids(s.sid))['service user'];
    await expectTwilioError(users()(u.sid).update({ roleSid: foreign }), 400, 20001);
    expect((await users()(u.sid).fetch()).roleSid).toBe(roles['service admin']);
  });

  it('refuses Attributes that are not JSON (50304) on create and update', async () => {
    await expectTwilioError(users().create({ identity: 'frank', attributes: '{oops' }), 400, 50304);
    const u = await users().create({ identity: 'frank', attributes: '{"keep":true}' });
    await expectTwilioError(users()(u.sid).update({ attributes: 'not json' }), 400, 50304);
    expect((await users()(u.sid).fetch()).attributes).toBe('{"keep":true}');
  });

  it('deletes a user (then 404) and frees its identity', async () => {
    const u = await users().create({ identity: 'gina' });
    expect(await users()(u.sid).remove()).toBe(true);
    await expectTwilioError(users()(u.sid).fetch(), 404, 20404);
    await expectTwilioError(users()(u.sid).remove(), 404, 20404);
    const again = await users().create({ identity: 'gina' });
    expect(again.sid).not.toBe(u.sid);
  });

  it('lists users in creation order across pages', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await users().create({ identity: `user-${i}` })).sid);
    const page = await users().page({ pageSize: 2 });
    expect(page.instances.map((u) => u.sid)).toEqual(created.slice(0, 2));
    const next = await page.nextPage();
    expect(next?.instances.map((u) => u.sid)).toEqual(created.slice(2, 4));
    expect((await users().list({ pageSize: 2 })).map((u) => u.sid)).toEqual(created);
    const raw = await t.http('GET', '/v1/Users?PageSize=2');
    expect(raw.body.meta.key).toBe('users');
    expect(raw.body.meta.page_size).toBe(2);
    expect(raw.body.meta.next_page_url).toContain('PageToken=');
    expect(raw.body.users.map((u: { identity: string }) => u.identity)).toEqual(['user-0', 'user-1']);
  });

  it('accepts X-Twilio-Webhook-Enabled on create, update and delete', async () => {
    const u = await users().create({ identity: 'hank', xTwilioWebhookEnabled: 'true' });
    expect(u.identity).toBe('hank');
    const up = await users()(u.sid).update({ friendlyName: 'H', xTwilioWebhookEnabled: 'false' });
    expect(up.friendlyName).toBe('H');
    const raw = await t.http('POST', '/v1/Users', { form: { Identity: 'ivy' }, headers: { 'X-Twilio-Webhook-Enabled': 'true' } });
    expect(raw.status).toBe(201);
    expect(raw.body.identity).toBe('ivy');
    expect(await users()(u.sid).remove({ xTwilioWebhookEnabled: 'true' })).toBe(true);
    expect((await users().list()).map((x) => x.identity)).toEqual(['ivy']);
  });

  it('creates the User when a new chat identity joins a conversation', async () => {
    const c = await v1().conversations.create({ friendlyName: 'room' });
    await v1().conversations(c.sid).participants.create({ identity: 'joiner' });
    const u = await users()('joiner').fetch();
    expect(u.sid).toMatch(USER_SID);
    expect(u.identity).toBe('joiner');
    expect(u.roleSid).toBe((await roleSids(t.emulator.defaultServiceSid))['service user']);
    // an existing user is reused, not duplicated
    const c2 = await v1().conversations.create({ friendlyName: 'room2' });
    await v1().conversations(c2.sid).participants.create({ identity: 'joiner' });
    expect((await users().list()).map((x) => x.sid)).toEqual([u.sid]);
    const pcs = await v1().participantConversations.list({ identity: 'joiner' });
    expect(pcs.map((p) => p.conversationSid).sort()).toEqual([c.sid, c2.sid].sort());
    for (const pc of pcs) expect(pc.participantUserSid).toBe(u.sid);
  });
});

describe('User Conversations', () => {
  const convs = () => v1().conversations;
  const say = (ch: string, body: string) => convs()(ch).messages.create({ author: 'someone', body });

  it('lists the conversations the user takes part in, with Twilio fields', async () => {
    const c1 = await convs().create({ friendlyName: 'First', uniqueName: 'first' });
    const c2 = await convs().create({ friendlyName: 'Second' });
    await convs().create({ friendlyName: 'not joined' });
    const p1 = await convs()(c1.sid).participants.create({ identity: 'alice' });
    const p2 = await convs()(c2.sid).participants.create({ identity: 'alice' });
    await convs()(c1.sid).participants.create({ identity: 'bob' });
    const u = await users()('alice').fetch();
    const list = await users()(u.sid).userConversations.list();
    expect(list.map((x) => x.conversationSid)).toEqual([c1.sid, c2.sid]);
    const [first, second] = list;
    expect(first.accountSid).toBe(t.emulator.accountSid);
    expect(first.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(first.participantSid).toBe(p1.sid);
    expect(second.participantSid).toBe(p2.sid);
    expect(first.userSid).toBe(u.sid);
    expect(first.conversationState).toBe('active');
    expect(first.uniqueName).toBe('first');
    expect(second.uniqueName).toBeNull();
    expect(first.friendlyName).toBe('First');
    expect(first.notificationLevel).toBe('default');
    expect(first.unreadMessagesCount).toBeNull();
    expect(first.lastReadMessageIndex).toBeNull();
    expect(first.attributes).toBe('{}');
    expect(first.createdBy).toBe('system');
    expect(first.url).toBe(`${t.emulator.url}/v1/Users/${u.sid}/Conversations/${c1.sid}`);
    expect(first.links).toEqual({
      participant: `${t.emulator.url}/v1/Conversations/${c1.sid}/Participants/${p1.sid}`,
      conversation: `${t.emulator.url}/v1/Conversations/${c1.sid}`,
    });
    // identity works in place of the user SID
    expect((await users()('alice').userConversations.list()).map((x) => x.conversationSid)).toEqual([c1.sid, c2.sid]);
    const raw = await t.http('GET', `/v1/Users/${u.sid}/Conversations?PageSize=1`);
    expect(raw.body.meta.key).toBe('conversations');
    expect(raw.body.conversations.map((x: { conversation_sid: string }) => x.conversation_sid)).toEqual([c1.sid]);
    expect(raw.body.meta.next_page_url).toContain('PageToken=');
    expect((await users()(u.sid).userConversations.list({ pageSize: 1 })).map((x) => x.conversationSid)).toEqual([c1.sid, c2.sid]);
  });

  it('fetches by conversation SID or UniqueName; unknown or not-joined → 404/20404', async () => {
    const c = await convs().create({ uniqueName: 'lobby' });
    const other = await convs().create({ uniqueName: 'elsewhere' });
    await convs()(c.sid).participants.create({ identity: 'alice' });
    const u = await users()('alice').fetch();
    expect((await users()(u.sid).userConversations(c.sid).fetch()).conversationSid).toBe(c.sid);
    expect((await users()(u.sid).userConversations('lobby').fetch()).conversationSid).toBe(c.sid);
    await expectTwilioError(users()(u.sid).userConversations('CH' + '0'.repeat(32)).fetch(), 404, 20404);
    await expectTwilioError(users()(u.sid).userConversations(other.sid).fetch(), 404, 20404);
    await expectTwilioError(users()('US' + '0'.repeat(32)).userConversations.list(), 404, 20404);
    await expectTwilioError(users()(u.sid).userConversations(other.sid).update({ notificationLevel: 'muted' }), 404, 20404);
    await expectTwilioError(users()(u.sid).userConversations(other.sid).remove(), 404, 20404);
  });

  it('counts unread messages once a read horizon is set', async () => {
    const c = await convs().create({});
    await convs()(c.sid).participants.create({ identity: 'alice' });
    for (const body of ['m0', 'm1', 'm2', 'm3']) await say(c.sid, body);
    const uc = () => users()('alice').userConversations(c.sid);
    expect((await uc().fetch()).unreadMessagesCount).toBeNull();
    const updated = await uc().update({ lastReadMessageIndex: 1 });
    expect(updated.lastReadMessageIndex).toBe(1);
    expect(updated.unreadMessagesCount).toBe(2);
    await say(c.sid, 'm4');
    expect((await uc().fetch()).unreadMessagesCount).toBe(3);
    expect((await uc().update({ lastReadMessageIndex: 4 })).unreadMessagesCount).toBe(0);
  });

  it('counts unread messages by index across deleted ones, a deleted horizon and a reused row id', async () => {
    const c = await convs().create({});
    await convs()(c.sid).participants.create({ identity: 'alice' });
    const sent: { sid: string }[] = [];
    for (const body of ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']) sent.push(await say(c.sid, body));
    const uc = () => users()('alice').userConversations(c.sid);
    // delete the horizon's own message and the newest one (SQLite hands the newest row id out again)
    await convs()(c.sid).messages(sent[2].sid).remove();
    await convs()(c.sid).messages(sent[5].sid).remove();
    expect((await uc().update({ lastReadMessageIndex: 2 })).unreadMessagesCount).toBe(2);
    const m6 = await say(c.sid, 'm6');
    expect(m6.index).toBe(6);
    expect((await uc().fetch()).unreadMessagesCount).toBe(3);
    expect((await uc().update({ lastReadMessageIndex: 0 })).unreadMessagesCount).toBe(4);
    expect((await uc().update({ lastReadMessageIndex: 100 })).unreadMessagesCount).toBe(0);
  });

  it('updates NotificationLevel and LastReadMessageIndex, reflected on the participant', async () => {
    const c = await convs().create({});
    const p = await convs()(c.sid).participants.create({ identity: 'alice' });
    await say(c.sid, 'hello');
    const u = await users()('alice').fetch();
    const updated = await users()(u.sid).userConversations(c.sid).update({ notificationLevel: 'muted', lastReadMessageIndex: 0 });
    expect(updated.notificationLevel).toBe('muted');
    expect(updated.lastReadMessageIndex).toBe(0);
    expect(updated.unreadMessagesCount).toBe(0);
    const participant = await convs()(c.sid).participants(p.sid).fetch();
    expect(participant.lastReadMessageIndex).toBe(0);
    expect((await users()(u.sid).userConversations.list())[0].notificationLevel).toBe('muted');
    const back = await users()(u.sid).userConversations(c.sid).update({ notificationLevel: 'default' });
    expect(back.notificationLevel).toBe('default');
    expect(back.lastReadMessageIndex).toBe(0);
  });

  it('refuses NotificationLevel=loud (400) and changes nothing', async () => {
    const c = await convs().create({});
    await convs()(c.sid).participants.create({ identity: 'alice' });
    const u = await users()('alice').fetch();
    const r = await t.http('POST', `/v1/Users/${u.sid}/Conversations/${c.sid}`, { form: { NotificationLevel: 'loud' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(20001);
    expect((await users()(u.sid).userConversations(c.sid).fetch()).notificationLevel).toBe('default');
  });

  it('delete makes the user leave the conversation (participant gone, user kept)', async () => {
    const c = await convs().create({});
    const p = await convs()(c.sid).participants.create({ identity: 'alice' });
    await convs()(c.sid).participants.create({ identity: 'bob' });
    const u = await users()('alice').fetch();
    expect(await users()(u.sid).userConversations(c.sid).remove()).toBe(true);
    await expectTwilioError(convs()(c.sid).participants(p.sid).fetch(), 404, 20404);
    expect((await convs()(c.sid).participants.list()).map((x) => x.identity)).toEqual(['bob']);
    expect(await users()(u.sid).userConversations.list()).toEqual([]);
    await expectTwilioError(users()(u.sid).userConversations(c.sid).fetch(), 404, 20404);
    expect((await users()(u.sid).fetch()).identity).toBe('alice');
  });

  it('works under /v1/Services/{IS}/Users/{US}/Conversations', async () => {
    const s = await v1().services.create({ friendlyName: 'tenant' });
    const scoped = svc(s.sid);
    const c = await scoped.conversations.create({ uniqueName: 'tenant-room' });
    const p = await scoped.conversations(c.sid).participants.create({ identity: 'alice' });
    // same identity in the default service is a different user, in no conversation
    const outside = await users().create({ identity: 'alice' });
    expect(await users()(outside.sid).userConversations.list()).toEqual([]);
    const u = await scoped.users('alice').fetch();
    expect(u.sid).not.toBe(outside.sid);
    expect(u.chatServiceSid).toBe(s.sid);
    const [uc] = await scoped.users(u.sid).userConversations.list();
    expect(uc.conversationSid).toBe(c.sid);
    expect(uc.chatServiceSid).toBe(s.sid);
    expect(uc.participantSid).toBe(p.sid);
    expect(uc.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Users/${u.sid}/Conversations/${c.sid}`);
    expect(uc.links.conversation).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Conversations/${c.sid}`);
    expect(uc.links.participant).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Conversations/${c.sid}/Participants/${p.sid}`);
    const muted = await scoped.users(u.sid).userConversations('tenant-room').update({ notificationLevel: 'muted' });
    expect(muted.notificationLevel).toBe('muted');
    expect(await scoped.users(u.sid).userConversations(c.sid).remove()).toBe(true);
    expect(await scoped.conversations(c.sid).participants.list()).toEqual([]);
  });
});
