import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const conversations = () => t.client.conversations.v1.conversations;
const SMS_ADDRESS = '+15555550100';
const PROXY_ADDRESS = '+15555550101';

async function newConversation(friendlyName = 'room') {
  return conversations().create({ friendlyName });
}

async function addSmsParticipant(conversationSid: string) {
  return conversations()(conversationSid).participants.create({
    'messagingBinding.address': SMS_ADDRESS,
    'messagingBinding.proxyAddress': PROXY_ADDRESS,
  });
}

describe('Messages: create', () => {
  it('creates a message with Twilio defaults: author system, attributes {}, no media, index 0', async () => {
    const c = await newConversation();
    const m = await conversations()(c.sid).messages.create({ body: 'hello' });
    expect(m.sid).toMatch(SID.message);
    expect(m.accountSid).toBe(t.emulator.accountSid);
    expect(m.conversationSid).toBe(c.sid);
    expect(m.body).toBe('hello');
    expect(m.author).toBe('system');
    expect(m.attributes).toBe('{}');
    expect(m.media).toBeNull();
    expect(m.contentSid).toBeNull();
    expect(m.participantSid).toBeNull();
    expect(m.index).toBe(0);
    expect(m.delivery).toBeNull();
    expect(m.url).toBe(`${t.emulator.url}/v1/Conversations/${c.sid}/Messages/${m.sid}`);
    expect(m.links).toEqual({
      delivery_receipts: `${m.url}/Receipts`,
      channel_metadata: `${m.url}/ChannelMetadata`,
    });
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Messages/${m.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.index).toBe(0);
    expect(raw.body.delivery).toBeNull();
    expect(raw.body.attributes).toBe('{}');
  });

  it('stores Author, Attributes and the author participant_sid when the author is a participant identity', async () => {
    const c = await newConversation();
    const alice = await conversations()(c.sid).participants.create({ identity: 'alice' });
    const m = await conversations()(c.sid).messages.create({
      author: 'alice',
      body: 'hi',
      attributes: JSON.stringify({ importance: 'high' }),
    });
    expect(m.author).toBe('alice');
    expect(m.participantSid).toBe(alice.sid);
    expect(JSON.parse(m.attributes)).toEqual({ importance: 'high' });
    const stranger = await conversations()(c.sid).messages.create({ author: 'bob', body: 'not a participant' });
    expect(stranger.author).toBe('bob');
    expect(stranger.participantSid).toBeNull();
  });

  it('accepts a media-only message (MediaSid → media array) and a content-only message (ContentSid)', async () => {
    const c = await newConversation();
    const mediaSid = 'ME' + 'ab'.repeat(16);
    const withMedia = await conversations()(c.sid).messages.create({ mediaSid });
    expect(withMedia.body).toBeNull();
    expect(Array.isArray(withMedia.media)).toBe(true);
    expect(withMedia.media).toHaveLength(1);
    expect((withMedia.media as any[])[0].sid).toBe(mediaSid);
    const contentSid = 'HX' + '12'.repeat(16);
    const withContent = await conversations()(c.sid).messages.create({ contentSid, contentVariables: '{"1":"Ann"}' });
    expect(withContent.contentSid).toBe(contentSid);
    expect(withContent.media).toBeNull();
    expect(withContent.index).toBe(1);
  });

  it('numbers messages 0,1,2… per conversation, independently in each conversation', async () => {
    const a = await newConversation('a');
    const b = await newConversation('b');
    const indexes: number[] = [];
    for (let i = 0; i < 3; i++) indexes.push((await conversations()(a.sid).messages.create({ body: `a${i}` })).index);
    expect(indexes).toEqual([0, 1, 2]);
    expect((await conversations()(b.sid).messages.create({ body: 'b0' })).index).toBe(0);
    expect((await conversations()(a.sid).messages.create({ body: 'a3' })).index).toBe(3);
  });

  it('never reuses the index of a deleted last message', async () => {
    const c = await newConversation();
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await conversations()(c.sid).messages.create({ body: `m${i}` }));
    expect(created[2].index).toBe(2);
    await conversations()(c.sid).messages(created[2].sid).remove();
    const next = await conversations()(c.sid).messages.create({ body: 'after delete' });
    expect(next.index).toBe(3);
    const listed = await conversations()(c.sid).messages.list();
    expect(listed.map((m) => m.index)).toEqual([0, 1, 3]);
  });

  it('never reuses indexes after deleting every message, newest first or oldest first', async () => {
    const c = await newConversation();
    const created: { sid: string }[] = [];
    for (let i = 0; i < 4; i++) created.push(await conversations()(c.sid).messages.create({ body: `m${i}` }));
    // newest first: each delete leaves the floor past the deleted one
    for (const m of [...created].reverse()) await conversations()(c.sid).messages(m.sid).remove();
    expect((await conversations()(c.sid).messages.create({ body: 'fresh' })).index).toBe(4);
    const d = await newConversation();
    const more: { sid: string }[] = [];
    for (let i = 0; i < 3; i++) more.push(await conversations()(d.sid).messages.create({ body: `n${i}` }));
    // oldest first: the newest one's index is what counts
    for (const m of more) await conversations()(d.sid).messages(m.sid).remove();
    expect(await conversations()(d.sid).messages.list()).toEqual([]);
    expect((await conversations()(d.sid).messages.create({ body: 'fresh' })).index).toBe(3);
  });

  it('a message wakes an inactive conversation without timers; an active one without timers is not rewritten', async () => {
    const c = await newConversation();
    const asleep = await conversations()(c.sid).update({ state: 'inactive' });
    expect(asleep.state).toBe('inactive');
    await conversations()(c.sid).messages.create({ body: 'wake up' });
    const awake = await conversations()(c.sid).fetch();
    expect(awake.state).toBe('active');
    await conversations()(c.sid).messages.create({ body: 'again' });
    expect((await conversations()(c.sid).fetch()).dateUpdated).toEqual(awake.dateUpdated);
  });
});

describe('Messages: fetch, update, delete, list', () => {
  it('fetches, updates Body/Author/Attributes and deletes', async () => {
    const c = await newConversation();
    await conversations()(c.sid).participants.create({ identity: 'carol' });
    const m = await conversations()(c.sid).messages.create({ body: 'draft' });
    const fetched = await conversations()(c.sid).messages(m.sid).fetch();
    expect(fetched.sid).toBe(m.sid);
    expect(fetched.body).toBe('draft');
    t.emulator.clock.advance(60);
    const updated = await conversations()(c.sid).messages(m.sid).update({
      body: 'final',
      author: 'carol',
      attributes: '{"edited":true}',
    });
    expect(updated.body).toBe('final');
    expect(updated.author).toBe('carol');
    expect(updated.participantSid).toMatch(SID.participant);
    expect(updated.attributes).toBe('{"edited":true}');
    expect(updated.index).toBe(0);
    expect(updated.dateUpdated.getTime()).toBe(m.dateCreated.getTime() + 60_000);
    const again = await conversations()(c.sid).messages(m.sid).fetch();
    expect(again.body).toBe('final');
    expect(await conversations()(c.sid).messages(m.sid).remove()).toBe(true);
    await expectTwilioError(conversations()(c.sid).messages(m.sid).fetch(), 404, 20404);
    await expectTwilioError(conversations()(c.sid).messages(m.sid).remove(), 404, 20404);
  });

  it('lists in ascending order by default, descending with Order=desc', async () => {
    const c = await newConversation();
    const sids: string[] = [];
    for (let i = 0; i < 4; i++) sids.push((await conversations()(c.sid).messages.create({ body: `n${i}` })).sid);
    expect((await conversations()(c.sid).messages.list()).map((m) => m.sid)).toEqual(sids);
    expect((await conversations()(c.sid).messages.list({ order: 'asc' })).map((m) => m.sid)).toEqual(sids);
    expect((await conversations()(c.sid).messages.list({ order: 'desc' })).map((m) => m.sid)).toEqual([...sids].reverse());
    const page = await conversations()(c.sid).messages.page({ order: 'desc', pageSize: 2 });
    expect(page.instances.map((m) => m.body)).toEqual(['n3', 'n2']);
  });

  it('rejects Order=sideways with 400/20001', async () => {
    const c = await newConversation();
    const r = await t.http('GET', `/v1/Conversations/${c.sid}/Messages?Order=sideways`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(20001);
    expect(r.body.more_info).toBe('https://www.twilio.com/docs/errors/20001');
  });

  it('reports delivery null when the conversation has no SMS participants', async () => {
    const c = await newConversation();
    await conversations()(c.sid).participants.create({ identity: 'dave' });
    const m = await conversations()(c.sid).messages.create({ author: 'dave', body: 'chat only' });
    expect(m.delivery).toBeNull();
    expect((await conversations()(c.sid).messages(m.sid).fetch()).delivery).toBeNull();
  });
});

describe('Messages: errors', () => {
  it('requires Body, MediaSid or ContentSid (400/50503)', async () => {
    const c = await newConversation();
    await expectTwilioError(conversations()(c.sid).messages.create({}), 400, 50503);
    await expectTwilioError(conversations()(c.sid).messages.create({ author: 'x', attributes: '{}' }), 400, 50503);
  });

  it('limits the body to 1600 characters with an SMS participant (50504), 2000 is fine in chat-only', async () => {
    const chat = await newConversation('chat');
    const long = 'x'.repeat(2000);
    const ok = await conversations()(chat.sid).messages.create({ body: long });
    expect(ok.body).toHaveLength(2000);

    const sms = await newConversation('sms');
    await addSmsParticipant(sms.sid);
    const exact = await conversations()(sms.sid).messages.create({ body: 'y'.repeat(1600) });
    expect(exact.index).toBe(0);
    await expectTwilioError(conversations()(sms.sid).messages.create({ body: 'y'.repeat(1601) }), 400, 50504);
    await expectTwilioError(conversations()(sms.sid).messages(exact.sid).update({ body: long }), 400, 50504);
    expect((await conversations()(sms.sid).messages(exact.sid).fetch()).body).toHaveLength(1600);
  });

  it('rejects a malformed MediaSid with 400 and leaves nothing behind', async () => {
    const c = await newConversation();
    const r = await t.http('POST', `/v1/Conversations/${c.sid}/Messages`, { form: { MediaSid: 'MEnot-a-sid' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('MediaSid');
    expect(await conversations()(c.sid).messages.list()).toEqual([]);
  });

  it('rejects a malformed MediaSid with code 50510 (Twilio), not the generic 20001', async () => {
    const c = await newConversation();
    await expectTwilioError(conversations()(c.sid).messages.create({ mediaSid: 'MEnot-a-sid' }), 400, 50510);
  });

  it('rejects Attributes that are not JSON (400/50304) on create and update', async () => {
    const c = await newConversation();
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'x', attributes: '{nope' }), 400, 50304);
    const m = await conversations()(c.sid).messages.create({ body: 'x', attributes: '{"a":1}' });
    await expectTwilioError(conversations()(c.sid).messages(m.sid).update({ attributes: 'nope' }), 400, 50304);
    expect((await conversations()(c.sid).messages(m.sid).fetch()).attributes).toBe('{"a":1}');
  });

  it('limits chat bodies to 32KB and message Attributes to 4KB (50504 / 50303)', async () => {
    const c = await newConversation();
    const max = await conversations()(c.sid).messages.create({ body: 'c'.repeat(32 * 1024) });
    expect(max.body).toHaveLength(32 * 1024);
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'c'.repeat(32 * 1024 + 1) }), 400, 50504);
    const big = JSON.stringify({ a: 'x'.repeat(4 * 1024) });
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'x', attributes: big }), 400, 50303);
    expect((await conversations()(c.sid).messages.list()).map((m) => m.index)).toEqual([0]);
  });

  it('rejects a ContentVariables value over 256 characters with 50541', async () => {
    const c = await newConversation();
    const contentVariables = JSON.stringify({ 1: 'v'.repeat(257) });
    await expectTwilioError(conversations()(c.sid).messages.create({ contentSid: 'HX' + '1'.repeat(32), contentVariables }), 400, 50541);
  });

  it('refuses a message into a closed conversation (400/50377)', async () => {
    const c = await newConversation();
    const m = await conversations()(c.sid).messages.create({ body: 'before' });
    await conversations()(c.sid).update({ state: 'closed' });
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'after' }), 400, 50377);
    await expectTwilioError(conversations()(c.sid).messages(m.sid).update({ body: 'edit' }), 400, 50377);
    const listed = await conversations()(c.sid).messages.list();
    expect(listed.map((x) => x.body)).toEqual(['before']);
  });

  it('answers 404/20404 for an unknown conversation or message', async () => {
    const ghost = 'CH' + '0'.repeat(32);
    const e = await expectTwilioError(conversations()(ghost).messages.create({ body: 'x' }), 404, 20404);
    expect(e.message).toContain(ghost);
    await expectTwilioError(conversations()(ghost).messages.list(), 404, 20404);
    const c = await newConversation();
    await expectTwilioError(conversations()(c.sid).messages('IM' + '0'.repeat(32)).fetch(), 404, 20404);
  });

  it('leaves nothing behind after rejected writes: the next message gets the next index without gaps', async () => {
    const c = await newConversation();
    await addSmsParticipant(c.sid);
    expect((await conversations()(c.sid).messages.create({ body: 'first' })).index).toBe(0);
    await expectTwilioError(conversations()(c.sid).messages.create({}), 400, 50503);
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'z'.repeat(1601) }), 400, 50504);
    expect((await t.http('POST', `/v1/Conversations/${c.sid}/Messages`, { form: { MediaSid: 'ME123' } })).status).toBe(400);
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'x', contentVariables: '[1]' }), 400, 20001);
    await expectTwilioError(conversations()(c.sid).messages.create({ body: 'x', attributes: '[' }), 400, 50304);
    const next = await conversations()(c.sid).messages.create({ body: 'second' });
    expect(next.index).toBe(1);
    expect((await conversations()(c.sid).messages.list()).map((m) => m.body)).toEqual(['first', 'second']);
  });
});

describe('Messages: service-scoped', () => {
  it('creates, lists, fetches, updates and deletes messages under /Services/{IS}', async () => {
    const service = await t.client.conversations.v1.services.create({ friendlyName: 'svc' });
    const scoped = t.client.conversations.v1.services(service.sid).conversations;
    const c = await scoped.create({ friendlyName: 'scoped' });
    expect(c.chatServiceSid).toBe(service.sid);
    const m0 = await scoped(c.sid).messages.create({ body: 'zero' });
    const m1 = await scoped(c.sid).messages.create({ body: 'one', author: 'eve' });
    expect(m0.index).toBe(0);
    expect(m1.index).toBe(1);
    expect(m0.chatServiceSid).toBe(service.sid);
    expect(m0.url).toBe(`${t.emulator.url}/v1/Services/${service.sid}/Conversations/${c.sid}/Messages/${m0.sid}`);
    expect(m0.links).toEqual({
      delivery_receipts: `${m0.url}/Receipts`,
      channel_metadata: `${m0.url}/ChannelMetadata`,
    });
    expect((await scoped(c.sid).messages.list({ order: 'desc' })).map((m) => m.body)).toEqual(['one', 'zero']);
    expect((await scoped(c.sid).messages(m1.sid).fetch()).author).toBe('eve');
    expect((await scoped(c.sid).messages(m1.sid).update({ body: 'uno' })).body).toBe('uno');
    await scoped(c.sid).messages(m0.sid).remove();
    expect((await scoped(c.sid).messages.list()).map((m) => m.body)).toEqual(['uno']);
    await expectTwilioError(scoped(c.sid).messages.create({}), 400, 50503);
  });

  it('answers 404 across services: a conversation of one service is not reachable through another', async () => {
    const s1 = await t.client.conversations.v1.services.create({ friendlyName: 's1' });
    const s2 = await t.client.conversations.v1.services.create({ friendlyName: 's2' });
    const c = await t.client.conversations.v1.services(s1.sid).conversations.create({});
    const m = await t.client.conversations.v1.services(s1.sid).conversations(c.sid).messages.create({ body: 'mine' });
    const other = t.client.conversations.v1.services(s2.sid).conversations(c.sid).messages;
    await expectTwilioError(other.create({ body: 'intruder' }), 404, 20404);
    await expectTwilioError(other(m.sid).fetch(), 404, 20404);
    await expectTwilioError(other(m.sid).update({ body: 'x' }), 404, 20404);
    await expectTwilioError(other(m.sid).remove(), 404, 20404);
    await expectTwilioError(other.list(), 404, 20404);
    // the default-service path does not reach it either
    await expectTwilioError(conversations()(c.sid).messages(m.sid).fetch(), 404, 20404);
    const still = await t.client.conversations.v1.services(s1.sid).conversations(c.sid).messages.list();
    expect(still.map((x) => x.body)).toEqual(['mine']);
  });
});
