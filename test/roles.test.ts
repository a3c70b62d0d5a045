import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID, specPattern } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const ROLE_SID = specPattern('conversations.v1.role', 'sid');
const v1 = () => t.client.conversations.v1;
const roles = () => v1().roles;
const svc = (sid: string) => v1().services(sid);
const json = (body: object) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });

const DEFAULTS = [
  ['service admin', 'service'],
  ['service user', 'service'],
  ['channel admin', 'conversation'],
  ['channel user', 'conversation'],
];

async function byName(serviceSid: string): Promise<Record<string, { sid: string; type: string; permissions: string[] }>> {
  const list = await svc(serviceSid).roles.list();
  return Object.fromEntries(list.map((r) => [r.friendlyName, { sid: r.sid, type: r.type, permissions: r.permissions }]));
}

describe('Default roles and the Service Configuration', () => {
  it('every service, including a new one, starts with the four default roles', async () => {
    const s = await v1().services.create({ friendlyName: 'fresh' });
    for (const serviceSid of [t.emulator.defaultServiceSid, s.sid]) {
      const list = await svc(serviceSid).roles.list();
      expect(list.map((r) => [r.friendlyName, r.type])).toEqual(DEFAULTS);
      for (const r of list) {
        expect(r.sid).toMatch(ROLE_SID);
        expect(r.chatServiceSid).toBe(serviceSid);
        expect(r.accountSid).toBe(t.emulator.accountSid);
        expect(r.permissions.length).toBeGreaterThan(0);
        expect(r.url).toBe(`${t.emulator.url}/v1/Services/${serviceSid}/Roles/${r.sid}`);
      }
    }
    const mine = await byName(t.emulator.defaultServiceSid);
    const theirs = await byName(s.sid);
    expect(theirs['service user'].sid).not.toBe(mine['service user'].sid);
    expect(mine['service user'].permissions).toEqual(['createConversation', 'editOwnUserInfo', 'joinConversation']);
    expect(mine['channel user'].permissions).toContain('sendMessage');
    expect(mine['channel user'].permissions).not.toContain('removeParticipant');
    expect(mine['channel admin'].permissions).toContain('removeParticipant');
    expect(mine['service admin'].permissions).toContain('destroyConversation');
    // /v1/Roles is the default service's list
    expect((await roles().list()).map((r) => r.sid)).toEqual(Object.values(mine).map((r) => r.sid));
  });

  it('the Configuration points at service user, channel user and channel admin', async () => {
    const s = await v1().services.create({ friendlyName: 'fresh' });
    for (const serviceSid of [t.emulator.defaultServiceSid, s.sid]) {
      const named = await byName(serviceSid);
      const config = await svc(serviceSid).configuration().fetch();
      expect(config.chatServiceSid).toBe(serviceSid);
      expect(config.defaultChatServiceRoleSid).toBe(named['service user'].sid);
      expect(config.defaultConversationRoleSid).toBe(named['channel user'].sid);
      expect(config.defaultConversationCreatorRoleSid).toBe(named['channel admin'].sid);
    }
  });

  it('refuses a Configuration default role of the wrong type or of another service (400)', async () => {
    const sid = t.emulator.defaultServiceSid;
    const named = await byName(sid);
    const conf = () => svc(sid).configuration();
    await expectTwilioError(conf().update({ defaultChatServiceRoleSid: named['channel user'].sid }), 400, 20001, /DefaultChatServiceRoleSid/);
    await expectTwilioError(conf().update({ defaultConversationRoleSid: named['service user'].sid }), 400, 20001, /DefaultConversationRoleSid/);
    await expectTwilioError(conf().update({ defaultConversationCreatorRoleSid: named['service admin'].sid }), 400, 20001);
    const other = await v1().services.create({ friendlyName: 'other' });
    const foreign = (await byName(other.sid))['channel admin'].sid;
    await expectTwilioError(conf().update({ defaultConversationRoleSid: foreign }), 400, 20001);
    expect((await conf().fetch()).defaultConversationRoleSid).toBe(named['channel user'].sid);
    // a role of the right type is accepted, and new participants get it
    const updated = await conf().update({ defaultConversationRoleSid: named['channel admin'].sid });
    expect(updated.defaultConversationRoleSid).toBe(named['channel admin'].sid);
    const c = await v1().conversations.create({});
    expect((await v1().conversations(c.sid).participants.create({ identity: 'alice' })).roleSid).toBe(named['channel admin'].sid);
  });
});

describe('Roles', () => {
  it('creates a role from repeated Permission parameters', async () => {
    const r = await roles().create({ friendlyName: 'moderator', type: 'conversation', permission: ['sendMessage', 'removeParticipant'] });
    expect(r.sid).toMatch(ROLE_SID);
    expect(r.sid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(r.accountSid).toMatch(SID.account);
    expect(r.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(r.friendlyName).toBe('moderator');
    expect(r.type).toBe('conversation');
    expect(r.permissions).toEqual(['sendMessage', 'removeParticipant']);
    expect(r.url).toBe(`${t.emulator.url}/v1/Roles/${r.sid}`);
    const raw = await t.http('GET', `/v1/Roles/${r.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body.permissions).toEqual(['sendMessage', 'removeParticipant']);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    // the role is usable right away as a participant role
    const c = await v1().conversations.create({});
    const p = await v1().conversations(c.sid).participants.create({ identity: 'mod', roleSid: r.sid });
    expect(p.roleSid).toBe(r.sid);
  });

  it('accepts a single Permission sent over the wire', async () => {
    const r = await t.http('POST', '/v1/Roles', { form: { FriendlyName: 'single', Type: 'service', Permission: 'joinConversation' } });
    expect(r.status).toBe(201);
    expect(r.body.permissions).toEqual(['joinConversation']);
    expect(r.body.type).toBe('service');
  });

  it('requires FriendlyName, Type and Permission (400/20001)', async () => {
    const missing = await t.http('POST', '/v1/Roles', { form: { FriendlyName: 'x', Type: 'service' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      code: 20001,
      message: 'Missing required parameter Permission in the post body',
      more_info: 'https://www.twilio.com/docs/errors/20001',
      status: 400,
    });
    const noType = await t.http('POST', '/v1/Roles', { form: { FriendlyName: 'x', Permission: 'sendMessage' } });
    expect(noType.status).toBe(400);
    expect(noType.body.message).toBe('Missing required parameter Type in the post body');
    const badType = await t.http('POST', '/v1/Roles', { form: { FriendlyName: 'x', Type: 'channel', Permission: 'sendMessage' } });
    expect(badType.status).toBe(400);
    expect(badType.body.code).toBe(20001);
    expect(await roles().list()).toHaveLength(4);
  });

  it('refuses unknown permissions and permissions of the other role type (400)', async () => {
    await expectTwilioError(roles().create({ friendlyName: 'x', type: 'conversation', permission: ['sendMessage', 'flyToMoon'] }), 400, 20001, /flyToMoon/);
    // joinConversation is a service permission, sendMessage a conversation one
    await expectTwilioError(roles().create({ friendlyName: 'x', type: 'conversation', permission: ['joinConversation'] }), 400, 20001);
    await expectTwilioError(roles().create({ friendlyName: 'x', type: 'service', permission: ['sendMessage'] }), 400, 20001);
    expect(await roles().list()).toHaveLength(4);
  });

  it('update replaces the permission list; unknown permission → 400 and nothing changes', async () => {
    const r = await roles().create({ friendlyName: 'helper', type: 'service', permission: ['createConversation', 'joinConversation'] });
    t.emulator.clock.advance(7);
    const updated = await roles()(r.sid).update({ permission: ['editOwnUserInfo'] });
    expect(updated.permissions).toEqual(['editOwnUserInfo']);
    expect(updated.friendlyName).toBe('helper');
    expect(updated.type).toBe('service');
    expect(updated.dateUpdated.getTime() - updated.dateCreated.getTime()).toBe(7_000);
    await expectTwilioError(roles()(r.sid).update({ permission: ['nope'] }), 400, 20001);
    const noPermission = await t.http('POST', `/v1/Roles/${r.sid}`, { form: {} });
    expect(noPermission.status).toBe(400);
    expect(noPermission.body.message).toBe('Missing required parameter Permission in the post body');
    expect((await roles()(r.sid).fetch()).permissions).toEqual(['editOwnUserInfo']);
  });

  it('deletes a role (then 404); unknown role → 404/20404', async () => {
    const r = await roles().create({ friendlyName: 'temp', type: 'conversation', permission: ['sendMessage'] });
    expect(await roles()(r.sid).remove()).toBe(true);
    await expectTwilioError(roles()(r.sid).fetch(), 404, 20404);
    await expectTwilioError(roles()(r.sid).update({ permission: ['sendMessage'] }), 404, 20404);
    await expectTwilioError(roles()(r.sid).remove(), 404, 20404);
    expect(await roles().list()).toHaveLength(4);
  });

  it('limits FriendlyName to 64 characters (the spec\'s limit)', async () => {
    const ok = await roles().create({ friendlyName: 'n'.repeat(64), type: 'service', permission: ['joinConversation'] });
    expect(ok.friendlyName).toHaveLength(64);
    // the code is the emulator's generic FriendlyName-too-long code; Twilio's code for roles is unverified
    const e = await expectTwilioError(roles().create({ friendlyName: 'n'.repeat(65), type: 'service', permission: ['joinConversation'] }), 400, 50003);
    expect(e.message).toMatch(/65/);
    expect(await roles().list()).toHaveLength(5);
  });

  it('refuses to delete a role the Configuration names as a default (emulator decision), until repointed', async () => {
    const sid = t.emulator.defaultServiceSid;
    const named = await byName(sid);
    for (const name of ['service user', 'channel user', 'channel admin']) {
      await expectTwilioError(roles()(named[name].sid).remove(), 400, 20001, /default role/);
    }
    expect(await roles().list()).toHaveLength(4);
    // service admin is no default: it may go
    expect(await roles()(named['service admin'].sid).remove()).toBe(true);
    const spare = await roles().create({ friendlyName: 'spare', type: 'service', permission: ['joinConversation'] });
    await svc(sid).configuration().update({ defaultChatServiceRoleSid: spare.sid });
    expect(await roles()(named['service user'].sid).remove()).toBe(true);
    expect((await v1().users.create({ identity: 'newcomer' })).roleSid).toBe(spare.sid);
  });

  it('lists roles across pages, defaults first', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await roles().create({ friendlyName: `r${i}`, type: 'conversation', permission: ['sendMessage'] })).sid);
    const defaults = (await byName(t.emulator.defaultServiceSid));
    const all = [...DEFAULTS.map(([name]) => defaults[name].sid), ...created];
    expect((await roles().list({ pageSize: 3 })).map((r) => r.sid)).toEqual(all);
    const page = await roles().page({ pageSize: 3 });
    expect(page.instances.map((r) => r.sid)).toEqual(all.slice(0, 3));
    const second = await page.nextPage();
    expect(second?.instances.map((r) => r.sid)).toEqual(all.slice(3, 6));
    const raw = await t.http('GET', '/v1/Roles?PageSize=5');
    expect(raw.body.meta.key).toBe('roles');
    expect(raw.body.roles).toHaveLength(5);
    expect(raw.body.meta.next_page_url).toContain('PageToken=');
  });

  it('service-scoped roles are apart from the default service', async () => {
    const s = await v1().services.create({ friendlyName: 'tenant' });
    const r = await svc(s.sid).roles.create({ friendlyName: 'tenant role', type: 'service', permission: ['joinConversation'] });
    expect(r.chatServiceSid).toBe(s.sid);
    expect(r.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Roles/${r.sid}`);
    expect((await svc(s.sid).roles(r.sid).fetch()).friendlyName).toBe('tenant role');
    await expectTwilioError(roles()(r.sid).fetch(), 404, 20404);
    expect((await roles().list()).map((x) => x.sid)).not.toContain(r.sid);
    expect((await svc(s.sid).roles.list()).map((x) => x.sid)).toContain(r.sid);
    // a user in that service may take it; a user in the default service may not
    expect((await svc(s.sid).users.create({ identity: 'a', roleSid: r.sid })).roleSid).toBe(r.sid);
    await expectTwilioError(v1().users.create({ identity: 'a', roleSid: r.sid }), 400, 20001);
    const updated = await svc(s.sid).roles(r.sid).update({ permission: ['createConversation'] });
    expect(updated.permissions).toEqual(['createConversation']);
    expect(await svc(s.sid).roles(r.sid).remove()).toBe(true);
    expect(await svc(s.sid).roles.list()).toHaveLength(4);
  });

  it('roles of another account answer 404', async () => {
    const r = await roles().create({ friendlyName: 'mine', type: 'conversation', permission: ['sendMessage'] });
    const acct = await t.http('POST', '/_emulator/accounts', json({}));
    expect(acct.status).toBe(201);
    const theirs = t.clientFor(acct.body.accountSid, acct.body.authToken).conversations.v1;
    await expectTwilioError(theirs.roles(r.sid).fetch(), 404, 20404);
    await expectTwilioError(theirs.roles(r.sid).update({ permission: ['sendMessage'] }), 404, 20404);
    await expectTwilioError(theirs.roles(r.sid).remove(), 404, 20404);
    await expectTwilioError(theirs.services(t.emulator.defaultServiceSid).roles.list(), 404, 20404);
    const their = await theirs.roles.list();
    expect(their.map((x) => x.friendlyName)).toEqual(DEFAULTS.map(([name]) => name));
    expect(their.map((x) => x.sid)).not.toContain(r.sid);
    expect((await roles()(r.sid).fetch()).friendlyName).toBe('mine');
  });
});
