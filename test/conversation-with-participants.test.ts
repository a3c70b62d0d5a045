import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const ADDR = '+15558675310';
const PROXY = '+15017122661';

const v1 = () => t.client.conversations.v1;
const chat = (identity: string, extra: Record<string, unknown> = {}) => JSON.stringify({ identity, ...extra });
const sms = (address: string, proxy_address = PROXY) => JSON.stringify({ messaging_binding: { address, proxy_address } });

/** Nothing at all stored in the default service: no conversations, and no participants for these identities/addresses. */
async function expectNothingStored(identities: string[] = ['alice'], addresses: string[] = [ADDR]) {
  expect(await v1().conversations.list()).toEqual([]);
  for (const identity of identities) expect(await v1().participantConversations.list({ identity })).toEqual([]);
  for (const address of addresses) expect(await v1().participantConversations.list({ address })).toEqual([]);
}

describe('ConversationWithParticipants', () => {
  it('creates a conversation with a chat and an SMS participant (201)', async () => {
    const c = await v1().conversationWithParticipants.create({
      friendlyName: 'Support',
      uniqueName: 'ticket-7',
      attributes: '{"topic":"billing"}',
      participant: [chat('alice'), sms(ADDR)],
    });
    expect(c.sid).toMatch(SID.conversation);
    expect(c.accountSid).toBe(t.emulator.accountSid);
    expect(c.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(c.messagingServiceSid).toMatch(SID.messagingService);
    expect(c.friendlyName).toBe('Support');
    expect(c.uniqueName).toBe('ticket-7');
    expect(c.attributes).toBe('{"topic":"billing"}');
    expect(c.state).toBe('active');
    expect(c.url).toBe(`${t.emulator.url}/v1/Conversations/${c.sid}`);
    expect(c.links).toMatchObject({ participants: `${c.url}/Participants`, messages: `${c.url}/Messages` });

    const participants = await v1().conversations(c.sid).participants.list();
    expect(participants).toHaveLength(2);
    expect(participants[0].identity).toBe('alice');
    expect(participants[0].messagingBinding).toBeNull();
    expect(participants[0].sid).toMatch(SID.participant);
    expect(participants[1].identity).toBeNull();
    expect(participants[1].messagingBinding).toEqual({ type: 'sms', address: ADDR, proxy_address: PROXY });
    expect((await v1().conversations('ticket-7').fetch()).sid).toBe(c.sid);
    expect((await v1().participantConversations.list({ identity: 'alice' })).map((x) => x.conversationSid)).toEqual([c.sid]);
  });

  it('answers 201 with the conversation body on the wire', async () => {
    const r = await t.http('POST', '/v1/ConversationWithParticipants', {
      form: { FriendlyName: 'raw', Participant: [chat('alice'), chat('bob')] },
    });
    expect(r.status).toBe(201);
    expect(r.body.sid).toMatch(SID.conversation);
    expect(r.body.friendly_name).toBe('raw');
    expect(r.body.date_created).toMatch(ISO_SECONDS);
    const identities = (await v1().conversations(r.body.sid).participants.list()).map((p) => p.identity);
    expect(identities).toEqual(['alice', 'bob']);
  });

  it('creates a conversation with no participants', async () => {
    const c = await v1().conversationWithParticipants.create({ friendlyName: 'empty' });
    expect(c.friendlyName).toBe('empty');
    expect(await v1().conversations(c.sid).participants.list()).toEqual([]);
  });

  it('passes attributes, role_sid, WhatsApp and projected addresses through to the participants', async () => {
    const role = (await v1().roles.create({ friendlyName: 'agent role', type: 'conversation', permission: ['sendMessage'] })).sid;
    const c = await v1().conversationWithParticipants.create({
      participant: [
        chat('agent', { attributes: { desk: 3 }, role_sid: role, messaging_binding: { projected_address: PROXY } }),
        JSON.stringify({ messaging_binding: { address: `whatsapp:${ADDR}`, proxy_address: `whatsapp:${PROXY}` } }),
        chat('viewer', { attributes: '{"s":"str"}' }),
      ],
    });
    const [agent, wa, viewer] = await v1().conversations(c.sid).participants.list();
    expect(agent.identity).toBe('agent');
    expect(JSON.parse(agent.attributes)).toEqual({ desk: 3 });
    expect(agent.roleSid).toBe(role);
    expect(agent.messagingBinding).toEqual({ type: 'sms', projected_address: PROXY });
    expect(wa.messagingBinding).toEqual({ type: 'whatsapp', address: `whatsapp:${ADDR}`, proxy_address: `whatsapp:${PROXY}` });
    expect(viewer.attributes).toBe('{"s":"str"}');
  });

  it.each([
    ['invalid address', [chat('alice'), sms('5551234')], 400, 50407],
    ['address with spaces', [chat('alice'), sms('+1 555 867 5310')], 400, 50407],
    ['invalid proxy', [chat('alice'), sms(ADDR, 'hello')], 400, 50408],
    ['missing proxy', [chat('alice'), JSON.stringify({ messaging_binding: { address: ADDR } })], 400, 50408],
    ['empty address', [chat('alice'), sms('')], 400, 50411],
    ['duplicate identity', [chat('alice'), chat('alice')], 409, 50433],
    ['attributes not JSON', [chat('alice'), chat('bob', { attributes: '{nope' })], 400, 50304],
    ['neither identity nor address', [chat('alice'), JSON.stringify({ attributes: '{}' })], 400, 50204],
    ['identity and address', [chat('alice'), JSON.stringify({ identity: 'bob', messaging_binding: { address: ADDR, proxy_address: PROXY } })], 400, 50211],
  ] as const)('refuses a bad participant (%s) with its Twilio error and stores nothing', async (_name, participant, status, code) => {
    await expectTwilioError(
      v1().conversationWithParticipants.create({ friendlyName: 'doomed', uniqueName: 'doomed', participant: [...participant] }),
      status,
      code,
    );
    await expectNothingStored();
    await expectTwilioError(v1().conversations('doomed').fetch(), 404, 20404);
    // the unique name was not taken either
    const ok = await v1().conversations.create({ uniqueName: 'doomed' });
    expect(ok.uniqueName).toBe('doomed');
  });

  it('refuses a participant whose address+proxy is bound in another active conversation (409/50416), storing nothing new', async () => {
    const existing = await v1().conversations.create({ friendlyName: 'existing' });
    await v1().conversations(existing.sid).participants.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY });
    const e = await expectTwilioError(
      v1().conversationWithParticipants.create({ friendlyName: 'new', participant: [chat('alice'), sms(ADDR)] }),
      409,
      50416,
    );
    expect(e.message).toContain(existing.sid);
    expect((await v1().conversations.list()).map((c) => c.sid)).toEqual([existing.sid]);
    expect(await v1().participantConversations.list({ identity: 'alice' })).toEqual([]);
  });

  it('refuses more than 10 participants (50426) and stores nothing; exactly 10 is fine', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => chat(`user-${i}`));
    const e = await expectTwilioError(v1().conversationWithParticipants.create({ friendlyName: 'big', participant: eleven }), 400, 50426);
    expect(e.message).toMatch(/10/);
    await expectNothingStored(['user-0', 'user-10'], []);
    const c = await v1().conversationWithParticipants.create({ friendlyName: 'ten', participant: eleven.slice(0, 10) });
    expect(await v1().conversations(c.sid).participants.list()).toHaveLength(10);
  });

  it.each([['not json'], ['{"identity":'], ['"alice"'], ['[1,2]'], ['null'], ['42']])(
    'refuses participant value %j (not a JSON object) and stores nothing',
    async (value) => {
      await expectTwilioError(v1().conversationWithParticipants.create({ friendlyName: 'x', participant: [chat('alice'), value] }), 400, 20001);
      await expectNothingStored();
    },
  );

  it('validates the conversation fields too, before any participant is stored', async () => {
    await expectTwilioError(v1().conversationWithParticipants.create({ attributes: '{bad', participant: [chat('alice')] }), 400, 50304);
    await expectTwilioError(v1().conversationWithParticipants.create({ state: 'closed', participant: [chat('alice')] }), 400, 50384);
    await v1().conversations.create({ uniqueName: 'taken' });
    await expectTwilioError(v1().conversationWithParticipants.create({ uniqueName: 'taken', participant: [chat('alice')] }), 409, 50353);
    expect((await v1().conversations.list()).map((c) => c.uniqueName)).toEqual(['taken']);
    expect(await v1().participantConversations.list({ identity: 'alice' })).toEqual([]);
  });
});

describe('Service-scoped ConversationWithParticipants', () => {
  it('creates the conversation and its participants in that service', async () => {
    const s = await v1().services.create({ friendlyName: 'scoped' });
    const other = await v1().services.create({ friendlyName: 'other' });
    const c = await v1()
      .services(s.sid)
      .conversationWithParticipants.create({ friendlyName: 'in-service', participant: [chat('alice'), sms(ADDR)] });
    expect(c.sid).toMatch(SID.conversation);
    expect(c.chatServiceSid).toBe(s.sid);
    expect(c.url).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Conversations/${c.sid}`);
    const participants = await v1().services(s.sid).conversations(c.sid).participants.list();
    expect(participants.map((p) => p.identity)).toEqual(['alice', null]);
    expect(participants[0].chatServiceSid).toBe(s.sid);
    expect((await v1().services(s.sid).participantConversations.list({ identity: 'alice' })).map((x) => x.conversationSid)).toEqual([
      c.sid,
    ]);
    // not in the default service, nor in another one
    await expectTwilioError(v1().conversations(c.sid).fetch(), 404, 20404);
    expect(await v1().participantConversations.list({ identity: 'alice' })).toEqual([]);
    await expectTwilioError(v1().services(other.sid).conversations(c.sid).participants.list(), 404, 20404);
  });

  it('stores nothing in the service when a participant is bad', async () => {
    const s = await v1().services.create({ friendlyName: 'scoped' });
    await expectTwilioError(
      v1().services(s.sid).conversationWithParticipants.create({ friendlyName: 'doomed', participant: [chat('alice'), sms('hello')] }),
      400,
      50407,
    );
    expect(await v1().services(s.sid).conversations.list()).toEqual([]);
    expect(await v1().services(s.sid).participantConversations.list({ identity: 'alice' })).toEqual([]);
    await expectTwilioError(
      v1().services('IS' + '0'.repeat(32)).conversationWithParticipants.create({ participant: [chat('alice')] }),
      404,
      20404,
    );
  });
});
