import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const ADDR = '+15558675310';
const PROXY = '+15017122661';
const PROXY2 = '+15017122662';

const v1 = () => t.client.conversations.v1;

describe('ParticipantConversations', () => {
  it('lists every conversation a chat identity is in, with the participant and conversation fields', async () => {
    const c1 = await v1().conversations.create({ friendlyName: 'First', uniqueName: 'first', attributes: '{"n":1}' });
    const c2 = await v1().conversations.create({ friendlyName: 'Second' });
    const c3 = await v1().conversations.create({ friendlyName: 'Third' });
    const p1 = await v1().conversations(c1.sid).participants.create({ identity: 'alice' });
    await v1().conversations(c2.sid).participants.create({ identity: 'bob' });
    const p3 = await v1().conversations(c3.sid).participants.create({ identity: 'alice', 'messagingBinding.projectedAddress': PROXY });
    await v1().conversations(c3.sid).update({ state: 'inactive' });

    const list = await v1().participantConversations.list({ identity: 'alice' });
    expect(list.map((x) => x.conversationSid)).toEqual([c1.sid, c3.sid]);
    const [first, third] = list;
    expect(first.accountSid).toBe(t.emulator.accountSid);
    expect(first.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(first.participantSid).toBe(p1.sid);
    expect(first.participantSid).toMatch(SID.participant);
    expect(first.participantIdentity).toBe('alice');
    expect(first.participantMessagingBinding).toBeNull();
    expect(first.conversationSid).toMatch(SID.conversation);
    expect(first.conversationUniqueName).toBe('first');
    expect(first.conversationFriendlyName).toBe('First');
    expect(first.conversationAttributes).toBe('{"n":1}');
    expect(first.conversationState).toBe('active');
    expect(first.conversationTimers).toEqual({});
    expect(first.conversationCreatedBy).toBe('system');
    expect(first.links).toEqual({
      participant: `${t.emulator.url}/v1/Conversations/${c1.sid}/Participants/${p1.sid}`,
      conversation: `${t.emulator.url}/v1/Conversations/${c1.sid}`,
    });
    expect(third.participantSid).toBe(p3.sid);
    expect(third.participantMessagingBinding).toEqual({ type: 'sms', projected_address: PROXY });
    expect(third.conversationState).toBe('inactive');
    expect(third.conversationUniqueName).toBeNull();

    const raw = await t.http('GET', '/v1/ParticipantConversations?Identity=alice');
    expect(raw.status).toBe(200);
    expect(raw.body.meta.key).toBe('conversations');
    expect(raw.body.conversations).toHaveLength(2);
    expect(raw.body.conversations[0].conversation_date_created).toMatch(ISO_SECONDS);
    expect(raw.body.conversations[0].conversation_date_updated).toMatch(ISO_SECONDS);
    expect(raw.body.conversations[0].participant_sid).toBe(p1.sid);

    // the links really lead to the participant and the conversation
    const viaLink = await t.http('GET', first.links.participant.slice(t.emulator.url.length));
    expect(viaLink.status).toBe(200);
    expect(viaLink.body.sid).toBe(p1.sid);
    const convLink = await t.http('GET', first.links.conversation.slice(t.emulator.url.length));
    expect(convLink.body.sid).toBe(c1.sid);

    expect(await v1().participantConversations.list({ identity: 'nobody' })).toEqual([]);
  });

  it('lists the conversations of an SMS address, with its binding', async () => {
    const c1 = await v1().conversations.create({ friendlyName: 'a' });
    const c2 = await v1().conversations.create({ friendlyName: 'b' });
    const c3 = await v1().conversations.create({ friendlyName: 'c' });
    const p1 = await v1().conversations(c1.sid).participants.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY });
    const p2 = await v1().conversations(c2.sid).participants.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY2 });
    await v1().conversations(c3.sid).participants.create({ 'messagingBinding.address': '+15558675399', 'messagingBinding.proxyAddress': PROXY });
    const list = await v1().participantConversations.list({ address: ADDR });
    expect(list.map((x) => x.participantSid)).toEqual([p1.sid, p2.sid]);
    expect(list.map((x) => x.conversationSid)).toEqual([c1.sid, c2.sid]);
    expect(list[0].participantIdentity).toBeNull();
    expect(list[0].participantMessagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    expect(list[1].participantMessagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY2 });
    const raw = await t.http('GET', `/v1/ParticipantConversations?Address=${encodeURIComponent(ADDR)}`);
    expect(raw.body.conversations.map((x: any) => x.participant_sid)).toEqual([p1.sid, p2.sid]);
  });

  it('finds WhatsApp participants by their whatsapp: address', async () => {
    const c = await v1().conversations.create({});
    const p = await v1().conversations(c.sid).participants.create({
      'messagingBinding.address': `whatsapp:${ADDR}`,
      'messagingBinding.proxyAddress': `whatsapp:${PROXY}`,
    });
    const list = await v1().participantConversations.list({ address: `whatsapp:${ADDR}` });
    expect(list.map((x) => x.participantSid)).toEqual([p.sid]);
    expect(list[0].participantMessagingBinding).toEqual({ type: 'whatsapp', address: `whatsapp:${ADDR}`, proxy_address: `whatsapp:${PROXY}` });
    expect(await v1().participantConversations.list({ address: ADDR })).toEqual([]);
  });

  it('reflects removals and closed conversations', async () => {
    const c1 = await v1().conversations.create({});
    const c2 = await v1().conversations.create({});
    const p1 = await v1().conversations(c1.sid).participants.create({ identity: 'carol' });
    await v1().conversations(c2.sid).participants.create({ identity: 'carol' });
    await v1().conversations(c1.sid).participants(p1.sid).remove();
    await v1().conversations(c2.sid).update({ state: 'closed' });
    const list = await v1().participantConversations.list({ identity: 'carol' });
    expect(list.map((x) => x.conversationSid)).toEqual([c2.sid]);
    expect(list[0].conversationState).toBe('closed');
  });

  it('pages with pageSize 2 over 5 conversations', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await v1().conversations.create({ uniqueName: `room-${i}` });
      await v1().conversations(c.sid).participants.create({ identity: 'dave' });
      sids.push(c.sid);
    }
    const all = await v1().participantConversations.list({ identity: 'dave', pageSize: 2 });
    expect(all.map((x) => x.conversationSid)).toEqual(sids);
    expect((await v1().participantConversations.list({ identity: 'dave', limit: 3 })).map((x) => x.conversationUniqueName)).toEqual([
      'room-0',
      'room-1',
      'room-2',
    ]);
    const page1 = await v1().participantConversations.page({ identity: 'dave', pageSize: 2 });
    expect(page1.instances.map((x) => x.conversationUniqueName)).toEqual(['room-0', 'room-1']);
    const page2 = await page1.nextPage();
    expect(page2!.instances.map((x) => x.conversationUniqueName)).toEqual(['room-2', 'room-3']);
    const page3 = await page2!.nextPage();
    expect(page3!.instances.map((x) => x.conversationUniqueName)).toEqual(['room-4']);
    expect(await page3!.nextPage()).toBeUndefined();
    const back = await page3!.previousPage();
    expect(back!.instances.map((x) => x.conversationUniqueName)).toEqual(['room-2', 'room-3']);

    const raw = await t.http('GET', '/v1/ParticipantConversations?Identity=dave&PageSize=2');
    expect(raw.body.meta.page_size).toBe(2);
    expect(raw.body.meta.previous_page_url).toBeNull();
    expect(raw.body.meta.first_page_url).toBe(`${t.emulator.url}/v1/ParticipantConversations?Identity=dave&PageSize=2&Page=0`);
    expect(raw.body.meta.next_page_url).toMatch(
      new RegExp(`^${t.emulator.url}/v1/ParticipantConversations\\?Identity=dave&PageSize=2&Page=1&PageToken=[A-Za-z0-9]+$`),
    );
    const next = await t.http('GET', raw.body.meta.next_page_url.slice(t.emulator.url.length));
    expect(next.body.conversations.map((x: any) => x.conversation_unique_name)).toEqual(['room-2', 'room-3']);
  });

  it('keeps paging after the participant a page token points at is removed', async () => {
    const parts: string[] = [];
    const convs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await v1().conversations.create({});
      convs.push(c.sid);
      parts.push((await v1().conversations(c.sid).participants.create({ identity: 'frank' })).sid);
    }
    const page1 = await v1().participantConversations.page({ identity: 'frank', pageSize: 2 });
    expect(page1.instances.map((x) => x.participantSid)).toEqual(parts.slice(0, 2));
    await v1().conversations(convs[1]).participants(parts[1]).remove();
    const page2 = await page1.nextPage();
    expect(page2!.instances.map((x) => x.participantSid)).toEqual(parts.slice(2));
  });

  it('shows conversation timers and the state the clock has moved them to', async () => {
    const start = t.emulator.clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
    const c = await v1().conversations.create({ 'timers.inactive': 'PT5M', 'timers.closed': 'PT1H' });
    await v1().conversations(c.sid).participants.create({ identity: 'gina' });
    const [before] = await v1().participantConversations.list({ identity: 'gina' });
    expect(before.conversationTimers).toEqual({ date_inactive: iso(start + 5 * 60_000), date_closed: iso(start + 3_600_000) });
    t.emulator.clock.advance(6 * 60);
    const [after] = await v1().participantConversations.list({ identity: 'gina' });
    expect(after.conversationState).toBe('inactive');
    expect(after.conversationTimers).toEqual({ date_closed: iso(start + 3_600_000) });
  });

  it('refuses a request with neither Identity nor Address (400, Twilio code)', async () => {
    await v1().conversations.create({});
    const e = await expectTwilioError(v1().participantConversations.list(), 400, 20001);
    expect(e.message).toMatch(/Identity|Address/);
    const raw = await t.http('GET', '/v1/ParticipantConversations');
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ code: 20001, status: 400, more_info: 'https://www.twilio.com/docs/errors/20001' });
  });

  it('refuses a page token that is not one of ours', async () => {
    const r = await t.http('GET', '/v1/ParticipantConversations?Identity=x&PageToken=garbage');
    expect(r.status).toBe(400);
    expect(typeof r.body.code).toBe('number');
    expect(r.body.more_info).toBe(`https://www.twilio.com/docs/errors/${r.body.code}`);
  });
});

describe('Service-scoped ParticipantConversations', () => {
  it('lists only the conversations of that service, with service URLs in links', async () => {
    const s1 = await v1().services.create({ friendlyName: 'one' });
    const s2 = await v1().services.create({ friendlyName: 'two' });
    const c1 = await v1().services(s1.sid).conversations.create({ uniqueName: 'in-one' });
    const c2 = await v1().services(s2.sid).conversations.create({ uniqueName: 'in-two' });
    const cDefault = await v1().conversations.create({ uniqueName: 'in-default' });
    const p1 = await v1().services(s1.sid).conversations(c1.sid).participants.create({ identity: 'erin' });
    const p2 = await v1().services(s2.sid).conversations(c2.sid).participants.create({ identity: 'erin' });
    const pd = await v1().conversations(cDefault.sid).participants.create({ identity: 'erin' });
    const sms = await v1()
      .services(s1.sid)
      .conversations(c1.sid)
      .participants.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY });

    const inOne = await v1().services(s1.sid).participantConversations.list({ identity: 'erin' });
    expect(inOne.map((x) => x.participantSid)).toEqual([p1.sid]);
    expect(inOne[0].chatServiceSid).toBe(s1.sid);
    expect(inOne[0].conversationUniqueName).toBe('in-one');
    expect(inOne[0].links).toEqual({
      participant: `${t.emulator.url}/v1/Services/${s1.sid}/Conversations/${c1.sid}/Participants/${p1.sid}`,
      conversation: `${t.emulator.url}/v1/Services/${s1.sid}/Conversations/${c1.sid}`,
    });
    const viaLink = await t.http('GET', inOne[0].links.participant.slice(t.emulator.url.length));
    expect(viaLink.body.sid).toBe(p1.sid);

    expect((await v1().services(s2.sid).participantConversations.list({ identity: 'erin' })).map((x) => x.participantSid)).toEqual([p2.sid]);
    expect((await v1().participantConversations.list({ identity: 'erin' })).map((x) => x.participantSid)).toEqual([pd.sid]);
    const byAddress = await v1().services(s1.sid).participantConversations.list({ address: ADDR });
    expect(byAddress.map((x) => x.participantSid)).toEqual([sms.sid]);
    expect(await v1().services(s2.sid).participantConversations.list({ address: ADDR })).toEqual([]);

    await expectTwilioError(v1().services(s1.sid).participantConversations.list(), 400, 20001);
    await expectTwilioError(v1().services('IS' + '0'.repeat(32)).participantConversations.list({ identity: 'erin' }), 404, 20404);
  });
});
