import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const ADDR = '+15558675310';
const PROXY = '+15017122661';
const ADDR2 = '+15558675311';
const PROXY2 = '+15017122662';

const conversations = () => t.client.conversations.v1.conversations;
const participantsOf = (ch: string) => t.client.conversations.v1.conversations(ch).participants;
const newConversation = (friendlyName = 'room') => conversations().create({ friendlyName });
const bind = (address: string, proxy: string) => ({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
const listSids = async (ch: string) => (await participantsOf(ch).list()).map((p) => p.sid);

describe('Chat participants', () => {
  it('creates a chat participant with Twilio fields', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create({ identity: 'alice', attributes: JSON.stringify({ role: 'agent' }) });
    expect(p.sid).toMatch(SID.participant);
    expect(p.accountSid).toBe(t.emulator.accountSid);
    expect(p.accountSid).toMatch(SID.account);
    expect(p.conversationSid).toBe(c.sid);
    expect(p.identity).toBe('alice');
    expect(JSON.parse(p.attributes)).toEqual({ role: 'agent' });
    expect(p.messagingBinding).toBeNull();
    // every participant gets the service's default conversation role, as at Twilio
    const config = await t.client.conversations.v1.services(t.emulator.defaultServiceSid).configuration().fetch();
    expect(p.roleSid).toBe(config.defaultConversationRoleSid);
    expect(p.roleSid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(p.lastReadMessageIndex).toBeNull();
    expect(p.lastReadTimestamp).toBeNull();
    expect(p.url).toBe(`${t.emulator.url}/v1/Conversations/${c.sid}/Participants/${p.sid}`);
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Participants/${p.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.date_updated).toBe(raw.body.date_created);
    expect(raw.body.attributes).toBe('{"role":"agent"}');
    expect(raw.body.identity).toBe('alice');
  });

  it('defaults attributes to "{}"', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create({ identity: 'bob' });
    expect(p.attributes).toBe('{}');
  });

  it('refuses a duplicate identity in the same conversation (409/50433) but allows it in another', async () => {
    const c1 = await newConversation('one');
    const c2 = await newConversation('two');
    const first = await participantsOf(c1.sid).create({ identity: 'alice' });
    await expectTwilioError(participantsOf(c1.sid).create({ identity: 'alice', attributes: '{"x":1}' }), 409, 50433);
    expect(await listSids(c1.sid)).toEqual([first.sid]);
    const other = await participantsOf(c2.sid).create({ identity: 'alice' });
    expect(other.sid).not.toBe(first.sid);
    expect(other.conversationSid).toBe(c2.sid);
    expect(await listSids(c2.sid)).toEqual([other.sid]);
  });

  it('refuses a participant with neither Identity nor Address (50204), and Attributes that are not JSON (50304)', async () => {
    const c = await newConversation();
    const none = await expectTwilioError(participantsOf(c.sid).create({}), 400, 50204);
    expect(none.message).toMatch(/Identity/);
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'alice', attributes: '{oops' }), 400, 50304);
    expect(await listSids(c.sid)).toEqual([]);
    const p = await participantsOf(c.sid).create({ identity: 'alice', attributes: '{"keep":1}' });
    await expectTwilioError(participantsOf(c.sid)(p.sid).update({ attributes: 'not json' }), 400, 50304);
    expect((await participantsOf(c.sid)(p.sid).fetch()).attributes).toBe('{"keep":1}');
  });

  it('refuses an empty Identity on create and on update (50204)', async () => {
    const c = await newConversation();
    const r = await t.http('POST', `/v1/Conversations/${c.sid}/Participants`, { form: { Identity: '' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 50204, status: 400, more_info: 'https://www.twilio.com/docs/errors/50204' });
    expect(await listSids(c.sid)).toEqual([]);
    const p = await participantsOf(c.sid).create({ identity: 'alice' });
    const u = await t.http('POST', `/v1/Conversations/${c.sid}/Participants/${p.sid}`, { form: { Identity: '' } });
    expect(u.status).toBe(400);
    expect(u.body.code).toBe(50204);
    expect((await participantsOf(c.sid)(p.sid).fetch()).identity).toBe('alice');
  });

  it('refuses Identity together with an Address (50211), and a malformed RoleSid', async () => {
    const c = await newConversation();
    await expectTwilioError(
      participantsOf(c.sid).create({ identity: 'alice', 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY }),
      400,
      50211,
    );
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'alice', roleSid: 'RLnope' }), 400, 20001);
    expect(await listSids(c.sid)).toEqual([]);
  });
});

describe('SMS, WhatsApp and group-MMS participants', () => {
  it('creates an SMS participant with messaging_binding {type, address, proxy_address}', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    expect(p.sid).toMatch(SID.participant);
    expect(p.identity).toBeNull();
    expect(p.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Participants/${p.sid}`);
    expect(raw.body.messaging_binding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
  });

  it('creates a WhatsApp participant (whatsapp:+E164 on both sides)', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create(bind(`whatsapp:${ADDR}`, `whatsapp:${PROXY}`));
    expect(p.messagingBinding).toEqual({ type: 'whatsapp', address: `whatsapp:${ADDR}`, proxy_address: `whatsapp:${PROXY}` });
    // a WhatsApp address needs a WhatsApp proxy, and an SMS address an SMS proxy
    await expectTwilioError(participantsOf(c.sid).create(bind(`whatsapp:${ADDR2}`, PROXY)), 400, 50408);
    await expectTwilioError(participantsOf(c.sid).create(bind(ADDR2, `whatsapp:${PROXY}`)), 400, 50408);
    expect(await listSids(c.sid)).toEqual([p.sid]);
  });

  it('creates a group-MMS chat participant (Identity + ProjectedAddress)', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create({ identity: 'agent', 'messagingBinding.projectedAddress': PROXY });
    expect(p.identity).toBe('agent');
    expect(p.messagingBinding).toEqual({ type: 'sms', projected_address: PROXY });
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'agent2', 'messagingBinding.projectedAddress': 'hello' }), 400, 50408);
    expect(await listSids(c.sid)).toEqual([p.sid]);
  });

  it.each(['5551234', '+1 555 867 5310', 'hello', '15558675310', '+1555', 'whatsapp:hello'])(
    'refuses address %j with 400/50407 and stores nothing',
    async (address) => {
      const c = await newConversation();
      const e = await expectTwilioError(participantsOf(c.sid).create(bind(address, PROXY)), 400, 50407);
      expect(e.message.length).toBeGreaterThan(0);
      expect(await listSids(c.sid)).toEqual([]);
    },
  );

  it('refuses an over-long address with 50407', async () => {
    const c = await newConversation();
    await expectTwilioError(participantsOf(c.sid).create(bind('+1' + '5'.repeat(300), PROXY)), 400, 50407);
    expect(await listSids(c.sid)).toEqual([]);
  });

  it('refuses a missing or invalid proxy address with 400/50408 and stores nothing', async () => {
    const c = await newConversation();
    await expectTwilioError(participantsOf(c.sid).create({ 'messagingBinding.address': ADDR }), 400, 50408);
    for (const proxy of ['hello', '5551234', '+1 501 712 2661']) {
      await expectTwilioError(participantsOf(c.sid).create(bind(ADDR, proxy)), 400, 50408);
    }
    // a chat participant cannot carry a proxy address
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'alice', 'messagingBinding.proxyAddress': PROXY }), 400, 50408);
    expect(await listSids(c.sid)).toEqual([]);
  });

  it('refuses an empty address with 400/50411', async () => {
    const c = await newConversation();
    const r = await t.http('POST', `/v1/Conversations/${c.sid}/Participants`, {
      form: { 'MessagingBinding.Address': '', 'MessagingBinding.ProxyAddress': PROXY },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 50411, status: 400, more_info: 'https://www.twilio.com/docs/errors/50411' });
    await expectTwilioError(participantsOf(c.sid).create(bind('', PROXY)), 400, 50411);
    expect(await listSids(c.sid)).toEqual([]);
  });

  it('refuses an address+proxy pair bound in another active conversation (409/50416), allows it once that one is closed', async () => {
    const c1 = await newConversation('first');
    const c2 = await newConversation('second');
    const bound = await participantsOf(c1.sid).create(bind(ADDR, PROXY));
    const e = await expectTwilioError(participantsOf(c2.sid).create(bind(ADDR, PROXY)), 409, 50416);
    expect(e.message).toContain(c1.sid);
    expect(await listSids(c2.sid)).toEqual([]);
    // the same address through another proxy, or another address through the same proxy, is fine
    const viaOtherProxy = await participantsOf(c2.sid).create(bind(ADDR, PROXY2));
    const otherAddress = await participantsOf(c2.sid).create(bind(ADDR2, PROXY));
    expect(await listSids(c2.sid)).toEqual([viaOtherProxy.sid, otherAddress.sid]);
    // an inactive conversation still holds the binding
    await conversations()(c1.sid).update({ state: 'inactive' });
    await expectTwilioError(participantsOf(c2.sid).create(bind(ADDR, PROXY)), 409, 50416);
    await conversations()(c1.sid).update({ state: 'closed' });
    const c3 = await newConversation('third');
    const again = await participantsOf(c3.sid).create(bind(ADDR, PROXY));
    expect(again.sid).not.toBe(bound.sid);
    expect(again.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
  });
  it('refuses the same address+proxy twice in one conversation (50416)', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    await expectTwilioError(participantsOf(c.sid).create(bind(ADDR, PROXY)), 409, 50416);
    expect(await listSids(c.sid)).toEqual([p.sid]);
  });

  it('frees the binding when a timer closes its conversation, and refuses new participants there', async () => {
    const c1 = await conversations().create({ 'timers.closed': 'PT10M' });
    await participantsOf(c1.sid).create(bind(ADDR, PROXY));
    const c2 = await newConversation('second');
    await expectTwilioError(participantsOf(c2.sid).create(bind(ADDR, PROXY)), 409, 50416);
    t.emulator.clock.advance(11 * 60);
    const p = await participantsOf(c2.sid).create(bind(ADDR, PROXY));
    expect(p.conversationSid).toBe(c2.sid);
    await expectTwilioError(participantsOf(c1.sid).create({ identity: 'late' }), 400, 50377);
  });

  it('allows at most 50 non-chat participants in a conversation (50422)', async () => {
    const c = await newConversation();
    for (let i = 0; i < 50; i++) {
      await participantsOf(c.sid).create({ 'messagingBinding.address': `+1555867${String(5300 + i)}`, 'messagingBinding.proxyAddress': PROXY });
    }
    await expectTwilioError(participantsOf(c.sid).create(bind('+15558679999', PROXY)), 400, 50422);
    expect(await participantsOf(c.sid).list()).toHaveLength(50);
    const chat = await participantsOf(c.sid).create({ identity: 'still-fine' });
    expect(chat.identity).toBe('still-fine');
  });
  it('allows at most 1000 participants in a conversation (50417)', async () => {
    const c = await newConversation();
    const db = t.emulator.core.db;
    // 999 chat participants written straight to the store (a thousand REST creates would only slow the test)
    const first = await participantsOf(c.sid).create({ identity: 'user-0' });
    const row = db.get('SELECT * FROM participants WHERE sid = ?', first.sid) as Record<string, string | number | null>;
    db.transaction(() => {
      for (let i = 1; i < 1000; i++) {
        const copy: Record<string, string | number | null> = { ...row, sid: `MB${i.toString(16).padStart(32, '0')}`, identity: `user-${i}` };
        delete copy.seq;
        const names = Object.keys(copy);
        db.prepare(`INSERT INTO participants (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => copy[n]));
      }
    });
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'one-too-many' }), 400, 50417, /1000/);
    await expectTwilioError(participantsOf(c.sid).create(bind(ADDR, PROXY)), 400, 50417);
    expect(db.get('SELECT count(*) AS n FROM participants WHERE conversation_sid = ?', c.sid)).toEqual({ n: 1000 });
  });

  it('refuses a ProjectedAddress on an SMS participant (50420 on create)', async () => {
    const c = await newConversation();
    await expectTwilioError(participantsOf(c.sid).create({ ...bind(ADDR, PROXY), 'messagingBinding.projectedAddress': PROXY2 }), 400, 50420);
    expect(await listSids(c.sid)).toEqual([]);
  });
});

describe('Fetch, update, delete and list participants', () => {
  it('fetches by SID, by identity and by address', async () => {
    const c = await newConversation();
    const chat = await participantsOf(c.sid).create({ identity: 'alice' });
    const sms = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    const wa = await participantsOf(c.sid).create(bind(`whatsapp:${ADDR2}`, `whatsapp:${PROXY}`));
    expect((await participantsOf(c.sid)(chat.sid).fetch()).identity).toBe('alice');
    expect((await participantsOf(c.sid)('alice').fetch()).sid).toBe(chat.sid);
    expect((await participantsOf(c.sid)(ADDR).fetch()).sid).toBe(sms.sid);
    expect((await participantsOf(c.sid)(`whatsapp:${ADDR2}`).fetch()).sid).toBe(wa.sid);
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Participants/${encodeURIComponent(ADDR)}`);
    expect(raw.status).toBe(200);
    expect(raw.body.sid).toBe(sms.sid);
    await expectTwilioError(participantsOf(c.sid)('nobody').fetch(), 404, 20404);
    await expectTwilioError(participantsOf(c.sid)('MB' + '0'.repeat(32)).fetch(), 404, 20404);
    // a participant is only found under its own conversation
    const other = await newConversation('other');
    await expectTwilioError(participantsOf(other.sid)(chat.sid).fetch(), 404, 20404);
    await expectTwilioError(participantsOf(other.sid)('alice').fetch(), 404, 20404);
  });

  it('updates Attributes, RoleSid, LastReadMessageIndex, LastReadTimestamp and Identity', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create({ identity: 'alice' });
    t.emulator.clock.advance(60);
    const role = (await t.client.conversations.v1.roles.create({ friendlyName: 'moderator', type: 'conversation', permission: ['sendMessage', 'removeParticipant'] })).sid;
    const serviceRole = (await t.client.conversations.v1.roles.create({ friendlyName: 'svc', type: 'service', permission: ['joinConversation'] })).sid;
    await expectTwilioError(participantsOf(c.sid)(p.sid).update({ roleSid: serviceRole }), 400, 20001, /not a conversation role/);
    await expectTwilioError(participantsOf(c.sid)(p.sid).update({ roleSid: 'RL' + 'a'.repeat(32) }), 400, 20001, /does not exist/);
    const u = await participantsOf(c.sid)(p.sid).update({
      attributes: JSON.stringify({ vip: true }),
      roleSid: role,
      lastReadMessageIndex: 7,
      lastReadTimestamp: '2024-01-02T03:04:05Z',
    });
    expect(u.sid).toBe(p.sid);
    expect(JSON.parse(u.attributes)).toEqual({ vip: true });
    expect(u.roleSid).toBe(role);
    expect(u.lastReadMessageIndex).toBe(7);
    expect(u.lastReadTimestamp).toBe('2024-01-02T03:04:05Z');
    expect(u.dateUpdated.getTime()).toBe(p.dateCreated.getTime() + 60_000);
    const renamed = await participantsOf(c.sid)(p.sid).update({ identity: 'alice2' });
    expect(renamed.identity).toBe('alice2');
    const fetched = await participantsOf(c.sid)('alice2').fetch();
    expect(fetched.sid).toBe(p.sid);
    expect(fetched.lastReadMessageIndex).toBe(7);
    expect(fetched.roleSid).toBe(role);
    await expectTwilioError(participantsOf(c.sid)('alice').fetch(), 404, 20404);
  });

  it('refuses an update to an identity already present (50433), and leaves the participant as it was', async () => {
    const c = await newConversation();
    await participantsOf(c.sid).create({ identity: 'alice' });
    const bob = await participantsOf(c.sid).create({ identity: 'bob', attributes: '{"n":1}' });
    await expectTwilioError(participantsOf(c.sid)(bob.sid).update({ identity: 'alice', attributes: '{"n":2}' }), 409, 50433);
    const after = await participantsOf(c.sid)(bob.sid).fetch();
    expect(after.identity).toBe('bob');
    expect(after.attributes).toBe('{"n":1}');
    await expectTwilioError(participantsOf(c.sid)(bob.sid).update({ lastReadMessageIndex: 'x' as unknown as number }), 400, 20001);
  });

  it('updates the proxy address of an SMS participant, checked as a proxy', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    await expectTwilioError(participantsOf(c.sid)(p.sid).update({ 'messagingBinding.proxyAddress': 'hello' }), 400, 50408);
    const u = await participantsOf(c.sid)(p.sid).update({ 'messagingBinding.proxyAddress': PROXY2 });
    expect(u.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY2 });
  });

  it('updates a participant with its own current Identity or ProxyAddress (200, not 50433 / 50416)', async () => {
    const c = await newConversation();
    const alice = await participantsOf(c.sid).create({ identity: 'alice' });
    const same = await participantsOf(c.sid)(alice.sid).update({ identity: 'alice', attributes: '{"n":1}' });
    expect(same.identity).toBe('alice');
    expect(same.attributes).toBe('{"n":1}');
    const sms = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    const kept = await participantsOf(c.sid)(sms.sid).update({ 'messagingBinding.proxyAddress': PROXY, attributes: '{"n":2}' });
    expect(kept.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    expect(kept.attributes).toBe('{"n":2}');
  });

  it('refuses a ProxyAddress update onto a pair bound in another open conversation (409/50416), changing nothing', async () => {
    const c1 = await newConversation('first');
    const c2 = await newConversation('second');
    await participantsOf(c1.sid).create(bind(ADDR, PROXY));
    const p = await participantsOf(c2.sid).create(bind(ADDR, PROXY2));
    const e = await expectTwilioError(participantsOf(c2.sid)(p.sid).update({ 'messagingBinding.proxyAddress': PROXY, attributes: '{"moved":true}' }), 409, 50416);
    expect(e.message).toContain(c1.sid);
    const row = t.emulator.core.db.get('SELECT proxy_address, attributes FROM participants WHERE sid = ?', p.sid);
    expect(row).toEqual({ proxy_address: PROXY2, attributes: '{}' });
    // once the other conversation is closed the pair is free
    await conversations()(c1.sid).update({ state: 'closed' });
    const moved = await participantsOf(c2.sid)(p.sid).update({ 'messagingBinding.proxyAddress': PROXY });
    expect(moved.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
  });

  it('updates a chat participant projected address; an SMS participant has none', async () => {
    const c = await newConversation();
    const chat = await participantsOf(c.sid).create({ identity: 'agent' });
    const u = await participantsOf(c.sid)(chat.sid).update({ 'messagingBinding.projectedAddress': PROXY2 });
    expect(u.messagingBinding).toEqual({ type: 'sms', projected_address: PROXY2 });
    await expectTwilioError(participantsOf(c.sid)(chat.sid).update({ 'messagingBinding.projectedAddress': 'nope' }), 400, 50408);
    const sms = await participantsOf(c.sid).create(bind(ADDR, PROXY));
    await expectTwilioError(participantsOf(c.sid)(sms.sid).update({ 'messagingBinding.projectedAddress': PROXY2 }), 400, 50443);
    await expectTwilioError(participantsOf(c.sid)(sms.sid).update({ identity: 'sms-person' }), 400, 50444);
    await expectTwilioError(participantsOf(c.sid)(chat.sid).update({ 'messagingBinding.proxyAddress': PROXY }), 400, 50408);
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Participants/${sms.sid}`);
    expect(raw.body.messaging_binding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    expect(raw.body.identity).toBeNull();
  });

  it('deletes a participant', async () => {
    const c = await newConversation();
    const a = await participantsOf(c.sid).create({ identity: 'alice' });
    const b = await participantsOf(c.sid).create({ identity: 'bob' });
    expect(await participantsOf(c.sid)(a.sid).remove()).toBe(true);
    await expectTwilioError(participantsOf(c.sid)(a.sid).fetch(), 404, 20404);
    await expectTwilioError(participantsOf(c.sid)(a.sid).remove(), 404, 20404);
    expect(await listSids(c.sid)).toEqual([b.sid]);
    // the identity is free again
    const again = await participantsOf(c.sid).create({ identity: 'alice' });
    expect(again.sid).not.toBe(a.sid);
  });

  it('lists participants in creation order with paging', async () => {
    const c = await newConversation();
    const made: string[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) made.push((await participantsOf(c.sid).create({ identity: name })).sid);
    expect(await listSids(c.sid)).toEqual(made);
    const paged = await participantsOf(c.sid).list({ pageSize: 2 });
    expect(paged.map((p) => p.sid)).toEqual(made);
    expect((await participantsOf(c.sid).list({ limit: 3 })).map((p) => p.identity)).toEqual(['a', 'b', 'c']);
    const page1 = await participantsOf(c.sid).page({ pageSize: 2 });
    expect(page1.instances.map((p) => p.identity)).toEqual(['a', 'b']);
    const page2 = await page1.nextPage();
    expect(page2!.instances.map((p) => p.identity)).toEqual(['c', 'd']);
    const page3 = await page2!.nextPage();
    expect(page3!.instances.map((p) => p.identity)).toEqual(['e']);
    expect(await page3!.nextPage()).toBeUndefined();
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Participants?PageSize=2`);
    expect(raw.body.meta.key).toBe('participants');
    expect(raw.body.meta.page_size).toBe(2);
    expect(raw.body.meta.previous_page_url).toBeNull();
    expect(raw.body.meta.next_page_url).toMatch(new RegExp(`^${t.emulator.url}/v1/Conversations/${c.sid}/Participants\\?PageSize=2&Page=1&PageToken=`));
    expect(raw.body.participants).toHaveLength(2);
  });

  it('refuses writes in a closed conversation (400/50377) but still reads', async () => {
    const c = await newConversation();
    const p = await participantsOf(c.sid).create({ identity: 'alice' });
    await conversations()(c.sid).update({ state: 'closed' });
    await expectTwilioError(participantsOf(c.sid).create({ identity: 'bob' }), 400, 50377);
    await expectTwilioError(participantsOf(c.sid).create(bind(ADDR, PROXY)), 400, 50377);
    await expectTwilioError(participantsOf(c.sid)(p.sid).update({ attributes: '{"late":true}' }), 400, 50377);
    expect(await listSids(c.sid)).toEqual([p.sid]);
    expect((await participantsOf(c.sid)(p.sid).fetch()).attributes).toBe('{}');
  });

  it('answers 404 for participants of a conversation that does not exist', async () => {
    await expectTwilioError(participantsOf('CH' + '0'.repeat(32)).create({ identity: 'alice' }), 404, 20404);
    await expectTwilioError(participantsOf('CH' + '0'.repeat(32)).list(), 404, 20404);
  });
});

describe('Service-scoped participants', () => {
  it('creates, fetches, lists and deletes under /v1/Services/{IS}/Conversations/{CH}/Participants', async () => {
    const s1 = await t.client.conversations.v1.services.create({ friendlyName: 'one' });
    const s2 = await t.client.conversations.v1.services.create({ friendlyName: 'two' });
    expect(s1.sid).toMatch(SID.service);
    const c = await t.client.conversations.v1.services(s1.sid).conversations.create({ friendlyName: 'scoped' });
    const scoped = t.client.conversations.v1.services(s1.sid).conversations(c.sid).participants;
    const p = await scoped.create({ identity: 'alice' });
    expect(p.sid).toMatch(SID.participant);
    expect(p.chatServiceSid).toBe(s1.sid);
    expect(p.conversationSid).toBe(c.sid);
    expect(p.url).toBe(`${t.emulator.url}/v1/Services/${s1.sid}/Conversations/${c.sid}/Participants/${p.sid}`);
    const sms = await scoped.create(bind(ADDR, PROXY));
    expect(sms.messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    expect((await scoped('alice').fetch()).sid).toBe(p.sid);
    expect((await scoped.list()).map((x) => x.sid)).toEqual([p.sid, sms.sid]);
    await expectTwilioError(scoped.create({ identity: 'alice' }), 409, 50433);

    // not visible under another service, nor under the default service's /v1/Conversations routes
    await expectTwilioError(t.client.conversations.v1.services(s2.sid).conversations(c.sid).participants(p.sid).fetch(), 404, 20404);
    await expectTwilioError(t.client.conversations.v1.services(s2.sid).conversations(c.sid).participants.create({ identity: 'x' }), 404, 20404);
    await expectTwilioError(participantsOf(c.sid)(p.sid).fetch(), 404, 20404);

    const updated = await scoped(p.sid).update({ attributes: '{"s":1}' });
    expect(updated.attributes).toBe('{"s":1}');
    await scoped(p.sid).remove();
    expect((await scoped.list()).map((x) => x.sid)).toEqual([sms.sid]);
  });

  it('validates addresses the same way under a service', async () => {
    const s = await t.client.conversations.v1.services.create({ friendlyName: 'svc' });
    const c = await t.client.conversations.v1.services(s.sid).conversations.create({});
    const scoped = t.client.conversations.v1.services(s.sid).conversations(c.sid).participants;
    await expectTwilioError(scoped.create(bind('hello', PROXY)), 400, 50407);
    await expectTwilioError(scoped.create(bind(ADDR, 'x')), 400, 50408);
    await expectTwilioError(scoped.create({ identity: 'a', attributes: '[' }), 400, 50304);
    expect(await scoped.list()).toEqual([]);
  });
});
