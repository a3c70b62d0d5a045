/**
 * Conversation timers: Twilio's own error codes for bad lengths (50375/50376) and bad formats (50379/50380), durations
 * too long to end on a date refused before anything is written, and the moves at the exact second a timer falls due.
 */
import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';

const t = useEmulator({ clock: 'manual' });

const v1 = () => t.client.conversations.v1;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const count = (sql: string, ...args: unknown[]) => Number(t.emulator.core.db.get(sql, ...(args as string[]))?.n);

describe('timer validation', () => {
  it('refuses a timer below its minimum: 50375 for inactive (< PT1M), 50376 for closed (< PT10M)', async () => {
    await expectTwilioError(v1().conversations.create({ 'timers.inactive': 'PT59S' }), 400, 50375, /Timers\.Inactive.*1 minute/);
    await expectTwilioError(v1().conversations.create({ 'timers.closed': 'PT9M59S' }), 400, 50376, /Timers\.Closed.*10 minutes/);
    const c = await v1().conversations.create({ 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    await expectTwilioError(v1().conversations(c.sid).update({ 'timers.inactive': 'PT30S' }), 400, 50375);
    await expectTwilioError(v1().conversations(c.sid).update({ 'timers.closed': 'PT5M' }), 400, 50376);
    await expectTwilioError(v1().configuration().update({ defaultInactiveTimer: 'PT30S' }), 400, 50375, /DefaultInactiveTimer/);
    await expectTwilioError(v1().configuration().update({ defaultClosedTimer: 'PT5M' }), 400, 50376, /DefaultClosedTimer/);
    expect(count('SELECT count(*) AS n FROM conversations')).toBe(1);
  });

  it('refuses a timer that is no ISO 8601 duration: 50379 for inactive, 50380 for closed', async () => {
    await expectTwilioError(v1().conversations.create({ 'timers.inactive': 'ten minutes' }), 400, 50379, /Timers\.Inactive/);
    await expectTwilioError(v1().conversations.create({ 'timers.closed': 'P1Y' }), 400, 50380, /Timers\.Closed/);
    const c = await v1().conversations.create({});
    await expectTwilioError(v1().conversations(c.sid).update({ 'timers.inactive': 'PT' }), 400, 50379);
    await expectTwilioError(v1().conversations(c.sid).update({ 'timers.closed': '10' }), 400, 50380);
    await expectTwilioError(v1().configuration().update({ defaultInactiveTimer: 'soon' }), 400, 50379);
    await expectTwilioError(v1().configuration().update({ defaultClosedTimer: 'later' }), 400, 50380);
  });

  it('accepts a long timer whose end is still a date, and shows that date', async () => {
    const start = t.emulator.clock.now().getTime();
    const c = await v1().conversations.create({ 'timers.closed': 'P36500D' });
    expect(c.timers).toEqual({ date_closed: iso(start + 36500 * 86_400_000) });
  });
});

describe('durations too long to end on a date are format errors, and nothing is stored', () => {
  it('create: 400/50379, no row, and the account lists as before', async () => {
    const r = await t.http('POST', '/v1/Conversations', { form: { 'Timers.Inactive': 'P100000000D', UniqueName: 'poison' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 50379, status: 400, more_info: 'https://www.twilio.com/docs/errors/50379' });
    expect(count('SELECT count(*) AS n FROM conversations WHERE unique_name = ?', 'poison')).toBe(0);
    const weeks = await t.http('POST', '/v1/Conversations', { form: { 'Timers.Closed': 'P15000000W', UniqueName: 'poison' } });
    expect(weeks.body).toMatchObject({ code: 50380, status: 400 });
    expect(count('SELECT count(*) AS n FROM conversations')).toBe(0);
    expect((await t.http('GET', '/v1/Conversations')).status).toBe(200);
  });

  it('update: 400/50380, the other changes of the request are not kept', async () => {
    const c = await v1().conversations.create({ friendlyName: 'before' });
    const r = await t.http('POST', `/v1/Conversations/${c.sid}`, { form: { 'Timers.Closed': 'P200000000D', FriendlyName: 'after' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(50380);
    const row = t.emulator.core.db.get('SELECT friendly_name, timer_closed, date_closed FROM conversations WHERE sid = ?', c.sid);
    expect(row).toEqual({ friendly_name: 'before', timer_closed: null, date_closed: null });
    expect((await v1().conversations.list()).map((x) => x.friendlyName)).toEqual(['before']);
  });

  it('ConversationWithParticipants: 400/50380, neither the conversation nor its participants are stored', async () => {
    const r = await t.http('POST', '/v1/ConversationWithParticipants', {
      form: { 'Timers.Closed': 'P15000000W', UniqueName: 'poison', Participant: [JSON.stringify({ identity: 'alice' })] },
    });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(50380);
    expect(count('SELECT count(*) AS n FROM conversations')).toBe(0);
    expect(count('SELECT count(*) AS n FROM participants')).toBe(0);
    expect((await t.http('GET', '/v1/Conversations')).status).toBe(200);
  });

  it('Configuration: 400/50380, the default is not stored, and later creates still work', async () => {
    const r = await t.http('POST', '/v1/Configuration', { form: { DefaultClosedTimer: 'P99999999D' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(50380);
    const account = t.emulator.core.db.get('SELECT default_closed_timer FROM accounts WHERE sid = ?', t.emulator.accountSid);
    expect(account).toEqual({ default_closed_timer: null });
    const inactive = await t.http('POST', '/v1/Configuration', { form: { DefaultInactiveTimer: 'P99999999D' } });
    expect(inactive.body.code).toBe(50379);
    const c = await v1().conversations.create({ uniqueName: 'fine' });
    expect(c.timers).toEqual({});
    expect((await v1().conversations.list()).map((x) => x.uniqueName)).toEqual(['fine']);
  });
  it('caps at 9999-12-31T23:59:59Z a stored default that a database written before this check still holds', async () => {
    t.emulator.core.db.run('UPDATE accounts SET default_closed_timer = ? WHERE sid = ?', 'P99999999D', t.emulator.accountSid);
    const r = await t.http('POST', '/v1/Conversations', { form: { UniqueName: 'old-default' } });
    expect(r.status).toBe(201);
    expect(r.body.timers).toEqual({ date_closed: '9999-12-31T23:59:59Z' });
    expect((await t.http('GET', '/v1/Conversations')).body.conversations).toHaveLength(1);
  });
});

describe('timers falling due', () => {
  it('closes a conversation at exactly its closed timer (PT10M, 600 s later)', async () => {
    const c = await v1().conversations.create({ 'timers.closed': 'PT10M' });
    t.emulator.clock.advance(599);
    expect((await v1().conversations(c.sid).fetch()).state).toBe('active');
    t.emulator.clock.advance(1);
    const closed = await v1().conversations(c.sid).fetch();
    expect(closed.state).toBe('closed');
    expect(closed.timers).toEqual({});
  });

  it('makes a conversation inactive at exactly its inactive timer (PT1M, 60 s later)', async () => {
    const c = await v1().conversations.create({ 'timers.inactive': 'PT1M' });
    t.emulator.clock.advance(59);
    expect((await v1().conversations(c.sid).fetch()).state).toBe('active');
    t.emulator.clock.advance(1);
    expect((await v1().conversations(c.sid).fetch()).state).toBe('inactive');
  });

  it('closes a conversation its inactive timer made inactive, at its closed timer, with no activity in between', async () => {
    const start = t.emulator.clock.now().getTime();
    const c = await v1().conversations.create({ 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    t.emulator.clock.advance(60);
    const inactive = await v1().conversations(c.sid).fetch();
    expect(inactive.state).toBe('inactive');
    expect(inactive.timers).toEqual({ date_closed: iso(start + 600_000) });
    t.emulator.clock.advance(540);
    const closed = await v1().conversations(c.sid).fetch();
    expect(closed.state).toBe('closed');
    expect(closed.timers).toEqual({});
  });

  it('moves every due conversation in one sweep, however many batches they take', async () => {
    const db = t.emulator.core.db;
    const c = await v1().conversations.create({ 'timers.closed': 'PT10M' });
    // 2,500 more conversations due at the same moment: written straight to the store, as REST would take too long.
    const row = db.get('SELECT * FROM conversations WHERE sid = ?', c.sid) as Record<string, unknown>;
    db.transaction(() => {
      for (let i = 0; i < 2500; i++) {
        const copy: Record<string, unknown> = { ...row, sid: `CH${i.toString(16).padStart(32, '0')}`, unique_name: null };
        delete copy.seq;
        const names = Object.keys(copy);
        db.prepare(`INSERT INTO conversations (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => copy[n] as string | number | null));
      }
    });
    t.emulator.core.timers.forget();
    t.emulator.clock.advance(600);
    expect(count("SELECT count(*) AS n FROM conversations WHERE state = 'closed'")).toBe(2501);
  });
});
