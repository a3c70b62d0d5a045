import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS, SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

describe('Conversations', () => {
  it('creates a conversation with Twilio fields, SIDs and links', async () => {
    const c = await t.client.conversations.v1.conversations.create({
      friendlyName: 'Support',
      uniqueName: 'ticket-1',
      attributes: JSON.stringify({ topic: 'billing' }),
    });
    expect(c.sid).toMatch(SID.conversation);
    expect(c.accountSid).toBe(t.emulator.accountSid);
    expect(c.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(c.messagingServiceSid).toMatch(SID.messagingService);
    expect(c.friendlyName).toBe('Support');
    expect(c.uniqueName).toBe('ticket-1');
    expect(JSON.parse(c.attributes)).toEqual({ topic: 'billing' });
    expect(c.state).toBe('active');
    expect(c.timers).toEqual({});
    expect(c.url).toBe(`${t.emulator.url}/v1/Conversations/${c.sid}`);
    expect(c.links).toEqual({
      participants: `${c.url}/Participants`,
      messages: `${c.url}/Messages`,
      webhooks: `${c.url}/Webhooks`,
      export: `${c.url}/Export`,
    });
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}`);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.attributes).toBe('{"topic":"billing"}');
  });

  it('defaults attributes to "{}" and accepts DateCreated / DateUpdated overrides', async () => {
    const c = await t.client.conversations.v1.conversations.create({
      dateCreated: new Date('2020-01-02T03:04:05Z'),
      dateUpdated: new Date('2020-01-03T00:00:00Z'),
    });
    expect(c.attributes).toBe('{}');
    expect(c.friendlyName).toBeNull();
    expect(c.dateCreated.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(c.dateUpdated.toISOString()).toBe('2020-01-03T00:00:00.000Z');
  });

  it('addresses a conversation by UniqueName in every URL', async () => {
    const c = await t.client.conversations.v1.conversations.create({ uniqueName: 'by-name' });
    expect((await t.client.conversations.v1.conversations('by-name').fetch()).sid).toBe(c.sid);
    const updated = await t.client.conversations.v1.conversations('by-name').update({ friendlyName: 'renamed' });
    expect(updated.friendlyName).toBe('renamed');
    const m = await t.client.conversations.v1.conversations('by-name').messages.create({ body: 'hello' });
    expect(m.conversationSid).toBe(c.sid);
    await t.client.conversations.v1.conversations('by-name').remove();
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).fetch(), 404, 20404);
  });

  it('refuses a duplicate UniqueName with 409/50353 and stores nothing', async () => {
    await t.client.conversations.v1.conversations.create({ uniqueName: 'dup' });
    await expectTwilioError(t.client.conversations.v1.conversations.create({ uniqueName: 'dup', friendlyName: 'second' }), 409, 50353);
    const all = await t.client.conversations.v1.conversations.list();
    expect(all.map((c) => c.uniqueName)).toEqual(['dup']);
    const other = await t.client.conversations.v1.conversations.create({ uniqueName: 'other' });
    await expectTwilioError(t.client.conversations.v1.conversations(other.sid).update({ uniqueName: 'dup' }), 409, 50353);
  });

  it('refuses a UniqueName that looks like a conversation SID (50390)', async () => {
    await expectTwilioError(t.client.conversations.v1.conversations.create({ uniqueName: 'CH' + 'a'.repeat(32) }), 400, 50390);
  });

  it('moves state through the API; closed is final (50377) and cannot be the initial state (50384)', async () => {
    await expectTwilioError(t.client.conversations.v1.conversations.create({ state: 'closed' }), 400, 50384);
    const c = await t.client.conversations.v1.conversations.create({ friendlyName: 'x' });
    expect((await t.client.conversations.v1.conversations(c.sid).update({ state: 'inactive' })).state).toBe('inactive');
    expect((await t.client.conversations.v1.conversations(c.sid).update({ state: 'closed' })).state).toBe('closed');
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).update({ friendlyName: 'y' }), 400, 50377);
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).messages.create({ body: 'late' }), 400, 50377);
    expect((await t.client.conversations.v1.conversations(c.sid).fetch()).friendlyName).toBe('x');
  });

  it('rejects an unknown State with 400 and a Twilio code', async () => {
    const r = await t.http('POST', '/v1/Conversations', { form: { State: 'sleeping' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      code: 20001,
      message: expect.stringContaining('State'),
      more_info: 'https://www.twilio.com/docs/errors/20001',
      status: 400,
    });
  });

  it('rejects Attributes that are not JSON, and over-long fields, leaving nothing behind', async () => {
    await expectTwilioError(t.client.conversations.v1.conversations.create({ attributes: '{not json' }), 400, 50304);
    await expectTwilioError(t.client.conversations.v1.conversations.create({ friendlyName: 'x'.repeat(257) }), 400, 50003, /FriendlyName/);
    await expectTwilioError(t.client.conversations.v1.conversations.create({ uniqueName: 'u'.repeat(257) }), 400, 50004, /UniqueName/);
    await expectTwilioError(
      t.client.conversations.v1.conversations.create({ attributes: JSON.stringify({ a: 'x'.repeat(16 * 1024) }) }),
      400,
      50303,
    );
    expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
    const c = await t.client.conversations.v1.conversations.create({ attributes: '{"keep":true}' });
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).update({ attributes: 'nope' }), 400, 50304);
    expect((await t.client.conversations.v1.conversations(c.sid).fetch()).attributes).toBe('{"keep":true}');
  });

  it('filters by State and by StartDate/EndDate (newest first with a date filter)', async () => {
    const old = await t.client.conversations.v1.conversations.create({ friendlyName: 'old', dateCreated: new Date('2021-05-01T10:00:00Z') });
    const mid = await t.client.conversations.v1.conversations.create({ friendlyName: 'mid', dateCreated: new Date('2021-05-02T10:00:00Z') });
    const recent = await t.client.conversations.v1.conversations.create({ friendlyName: 'new', dateCreated: new Date('2021-05-03T10:00:00Z') });
    await t.client.conversations.v1.conversations(mid.sid).update({ state: 'inactive' });
    const inactive = await t.client.conversations.v1.conversations.list({ state: 'inactive' });
    expect(inactive.map((c) => c.sid)).toEqual([mid.sid]);
    const ranged = await t.client.conversations.v1.conversations.list({ startDate: '2021-05-01', endDate: '2021-05-02' });
    expect(ranged.map((c) => c.sid)).toEqual([mid.sid, old.sid]);
    const all = await t.client.conversations.v1.conversations.list();
    expect(all.map((c) => c.sid)).toEqual([old.sid, mid.sid, recent.sid]);
    const r = await t.http('GET', '/v1/Conversations?State=inactive&PageSize=1');
    expect(r.body.meta.url).toBe(`${t.emulator.url}/v1/Conversations?State=inactive&PageSize=1&Page=0`);
    await expectTwilioError(t.client.conversations.v1.conversations.list({ startDate: 'yesterday' }), 400, 20001);
  });

  it('deletes a conversation with its participants and messages', async () => {
    const c = await t.client.conversations.v1.conversations.create({});
    const p = await t.client.conversations.v1.conversations(c.sid).participants.create({ identity: 'alice' });
    const m = await t.client.conversations.v1.conversations(c.sid).messages.create({ author: 'alice', body: 'hi' });
    await t.client.conversations.v1.conversations(c.sid).remove();
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).participants(p.sid).fetch(), 404, 20404);
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).messages(m.sid).fetch(), 404, 20404);
    expect(await t.client.conversations.v1.participantConversations.list({ identity: 'alice' })).toEqual([]);
    await expectTwilioError(t.client.conversations.v1.conversations(c.sid).remove(), 404, 20404);
  });
});

describe('Conversation timers', () => {
  it('validates durations (50379 / 50380) and minimums (50375 / 50376); test/timers.test.ts has the rest', async () => {
    await expectTwilioError(t.client.conversations.v1.conversations.create({ 'timers.inactive': 'ten minutes' }), 400, 50379);
    await expectTwilioError(t.client.conversations.v1.conversations.create({ 'timers.inactive': 'PT30S' }), 400, 50375);
    await expectTwilioError(t.client.conversations.v1.conversations.create({ 'timers.closed': 'PT5M' }), 400, 50376);
  });

  it('moves active → inactive → closed as the clock passes the timers, and a message wakes it', async () => {
    const start = t.emulator.clock.now().getTime();
    const c = await t.client.conversations.v1.conversations.create({ 'timers.inactive': 'PT5M', 'timers.closed': 'PT1H' });
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
    expect(c.timers).toEqual({ date_inactive: iso(start + 5 * 60_000), date_closed: iso(start + 3_600_000) });

    t.emulator.clock.advance(4 * 60);
    expect((await t.client.conversations.v1.conversations(c.sid).fetch()).state).toBe('active');
    t.emulator.clock.advance(60);
    const inactive = await t.client.conversations.v1.conversations(c.sid).fetch();
    expect(inactive.state).toBe('inactive');
    expect(inactive.timers).toEqual({ date_closed: iso(start + 3_600_000) });
    expect((await t.client.conversations.v1.conversations.list({ state: 'inactive' })).map((x) => x.sid)).toEqual([c.sid]);

    // A message is activity: the conversation wakes up and both timers restart from now.
    await t.client.conversations.v1.conversations(c.sid).messages.create({ body: 'still there?' });
    const now = t.emulator.clock.now().getTime();
    const woken = await t.client.conversations.v1.conversations(c.sid).fetch();
    expect(woken.state).toBe('active');
    expect(woken.timers).toEqual({ date_inactive: iso(now + 5 * 60_000), date_closed: iso(now + 3_600_000) });

    t.emulator.clock.advance(2 * 3600);
    const closed = await t.client.conversations.v1.conversations(c.sid).fetch();
    expect(closed.state).toBe('closed');
    expect(closed.timers).toEqual({});
  });

  it('moves state through POST /_emulator/clock as well', async () => {
    const c = await t.client.conversations.v1.conversations.create({ 'timers.closed': 'PT10M' });
    const r = await t.http('POST', '/_emulator/clock', { body: JSON.stringify({ advanceSeconds: 601 }), contentType: 'application/json', auth: null });
    expect(r.status).toBe(200);
    expect(r.body.mode).toBe('manual');
    expect((await t.client.conversations.v1.conversations(c.sid).fetch()).state).toBe('closed');
  });
});
