import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator } from './support/emulator.js';
import { ISO_SECONDS } from './support/spec.js';

const t = useEmulator();

const WH = /^WH[0-9a-f]{32}$/;
const FLOW = 'FW' + 'c'.repeat(32);
const v1 = () => t.client.conversations.v1;
const hooksOf = (ch: string) => v1().conversations(ch).webhooks;
const newConversation = () => v1().conversations.create({ friendlyName: 'room' });
const webhook = (url = 'https://example.com/hook') => ({
  target: 'webhook' as const,
  'configuration.url': url,
  'configuration.method': 'post' as const,
  'configuration.filters': ['onMessageAdded'],
});
const storedFor = (ch: string) => t.emulator.core.db.get('SELECT count(*) AS n FROM conversation_webhooks WHERE conversation_sid = ?', ch)?.n;

describe('Conversation-scoped webhooks', () => {
  it('creates a webhook target with its configuration object', async () => {
    const c = await newConversation();
    const w = await hooksOf(c.sid).create({
      target: 'webhook',
      'configuration.url': 'https://example.com/hook',
      'configuration.method': 'post',
      'configuration.filters': ['onMessageAdded', 'onParticipantAdded'],
    });
    expect(w.sid).toMatch(WH);
    expect(w.accountSid).toBe(t.emulator.accountSid);
    // the /v1/Conversations representation has no chat_service_sid (spec); the service-scoped one does
    expect((w as unknown as Record<string, unknown>).chatServiceSid).toBeUndefined();
    expect(w.toJSON()).not.toHaveProperty('chatServiceSid');
    expect(w.conversationSid).toBe(c.sid);
    expect(w.target).toBe('webhook');
    // answered in the spelling the spec lists (get/post), as its examples show
    expect(w.configuration).toEqual({ url: 'https://example.com/hook', method: 'post', filters: ['onMessageAdded', 'onParticipantAdded'] });
    expect(w.url).toBe(`${t.emulator.url}/v1/Conversations/${c.sid}/Webhooks/${w.sid}`);
    const raw = await t.http('GET', `/v1/Conversations/${c.sid}/Webhooks/${w.sid}`);
    expect(raw.status).toBe(200);
    expect(raw.body.date_created).toMatch(ISO_SECONDS);
    expect(raw.body.configuration).toEqual(w.configuration);
    expect(raw.body).not.toHaveProperty('chat_service_sid');
    expect((await hooksOf(c.sid)(w.sid).fetch()).configuration).toEqual(w.configuration);
  });

  it('defaults the method, and a single Filters value is a list', async () => {
    const c = await newConversation();
    const raw = await t.http('POST', `/v1/Conversations/${c.sid}/Webhooks`, {
      form: { Target: 'webhook', 'Configuration.Url': 'https://example.com/one', 'Configuration.Filters': 'onMessageAdded' },
    });
    expect(raw.status).toBe(201);
    expect(raw.body.configuration).toEqual({ url: 'https://example.com/one', method: 'post', filters: ['onMessageAdded'] });
  });

  it('creates trigger and studio targets', async () => {
    const c = await newConversation();
    const trigger = await hooksOf(c.sid).create({
      target: 'trigger',
      'configuration.url': 'https://example.com/trigger',
      'configuration.method': 'get',
      'configuration.triggers': ['help', 'agent'],
    });
    expect(trigger.target).toBe('trigger');
    expect(trigger.configuration).toEqual({ url: 'https://example.com/trigger', method: 'get', triggers: ['help', 'agent'] });
    const studio = await hooksOf(c.sid).create({ target: 'studio', 'configuration.flowSid': FLOW, 'configuration.replayAfter': 3 });
    expect(studio.target).toBe('studio');
    expect(studio.configuration).toEqual({ flow_sid: FLOW, replay_after: 3 });
    expect((await hooksOf(c.sid).list()).map((w) => w.target)).toEqual(['trigger', 'studio']);
  });

  it('refuses a missing Target, a missing URL, triggers or flow (400) and stores nothing', async () => {
    const c = await newConversation();
    const noTarget = await t.http('POST', `/v1/Conversations/${c.sid}/Webhooks`, { form: { 'Configuration.Url': 'https://example.com/x' } });
    expect(noTarget.status).toBe(400);
    expect(noTarget.body.code).toBe(20001);
    expect(noTarget.body.message).toMatch(/Target/);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'webhook', 'configuration.filters': ['onMessageAdded'] }), 400, 20001);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'webhook', 'configuration.url': 'not a url' }), 400, 20001);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'trigger', 'configuration.url': 'https://example.com/t' }), 400, 20001);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'studio' }), 400, 20001);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'studio', 'configuration.flowSid': 'FW123' }), 400, 20001);
    const badTarget = await t.http('POST', `/v1/Conversations/${c.sid}/Webhooks`, { form: { Target: 'email', 'Configuration.Url': 'https://example.com/x' } });
    expect(badTarget.status).toBe(400);
    expect(await hooksOf(c.sid).list()).toEqual([]);
    expect(storedFor(c.sid)).toBe(0);
  });

  it('allows five webhooks per conversation; the sixth is 400/50361 and not stored', async () => {
    const c = await newConversation();
    const other = await newConversation();
    for (let i = 0; i < 5; i++) await hooksOf(c.sid).create(webhook(`https://example.com/${i}`));
    await expectTwilioError(hooksOf(c.sid).create(webhook('https://example.com/6')), 400, 50361);
    await expectTwilioError(hooksOf(c.sid).create({ target: 'studio', 'configuration.flowSid': FLOW }), 400, 50361);
    expect(storedFor(c.sid)).toBe(5);
    expect((await hooksOf(c.sid).list()).map((w) => w.configuration.url)).toEqual([0, 1, 2, 3, 4].map((i) => `https://example.com/${i}`));
    // the limit is per conversation
    expect((await hooksOf(other.sid).create(webhook())).conversationSid).toBe(other.sid);
    // a slot freed by a delete can be used again
    const first = (await hooksOf(c.sid).list())[0];
    await hooksOf(c.sid)(first.sid).remove();
    expect((await hooksOf(c.sid).create(webhook('https://example.com/again'))).configuration.url).toBe('https://example.com/again');
  });

  it('updates the configuration but keeps the target', async () => {
    const c = await newConversation();
    const w = await hooksOf(c.sid).create(webhook());
    const u = await hooksOf(c.sid)(w.sid).update({
      'configuration.url': 'https://example.com/new',
      'configuration.method': 'get',
      'configuration.filters': ['onConversationUpdated', 'onMessageRemoved'],
    });
    expect(u.sid).toBe(w.sid);
    expect(u.target).toBe('webhook');
    expect(u.configuration).toEqual({ url: 'https://example.com/new', method: 'get', filters: ['onConversationUpdated', 'onMessageRemoved'] });
    expect((await hooksOf(c.sid)(w.sid).fetch()).configuration).toEqual(u.configuration);
    await expectTwilioError(hooksOf(c.sid)(w.sid).update({ 'configuration.url': 'nope' }), 400, 20001);
    expect((await hooksOf(c.sid)(w.sid).fetch()).configuration.url).toBe('https://example.com/new');
    const studio = await hooksOf(c.sid).create({ target: 'studio', 'configuration.flowSid': FLOW });
    const other = 'FW' + 'd'.repeat(32);
    expect((await hooksOf(c.sid)(studio.sid).update({ 'configuration.flowSid': other })).configuration).toEqual({ flow_sid: other });
  });

  it('deletes, lists and pages; a webhook of another conversation is 404', async () => {
    const c = await newConversation();
    const d = await newConversation();
    const sids = [];
    for (let i = 0; i < 3; i++) sids.push((await hooksOf(c.sid).create(webhook(`https://example.com/${i}`))).sid);
    const page = await hooksOf(c.sid).page({ pageSize: 2 });
    expect(page.instances.map((w) => w.sid)).toEqual(sids.slice(0, 2));
    expect((await page.nextPage())?.instances.map((w) => w.sid)).toEqual(sids.slice(2));
    await expectTwilioError(hooksOf(d.sid)(sids[0]).fetch(), 404, 20404);
    await expectTwilioError(hooksOf(d.sid)(sids[0]).remove(), 404, 20404);
    expect(await hooksOf(c.sid)(sids[1]).remove()).toBe(true);
    await expectTwilioError(hooksOf(c.sid)(sids[1]).fetch(), 404, 20404);
    await expectTwilioError(hooksOf(c.sid)(sids[1]).remove(), 404, 20404);
    expect((await hooksOf(c.sid).list()).map((w) => w.sid)).toEqual([sids[0], sids[2]]);
  });

  it('serves the same webhooks under /v1/Services/{IS}/Conversations and in other services', async () => {
    const c = await newConversation();
    const w = await hooksOf(c.sid).create(webhook());
    const viaService = v1().services(t.emulator.defaultServiceSid).conversations(c.sid).webhooks;
    expect((await viaService(w.sid).fetch()).chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect((await viaService(w.sid).fetch()).url).toBe(`${t.emulator.url}/v1/Services/${t.emulator.defaultServiceSid}/Conversations/${c.sid}/Webhooks/${w.sid}`);
    expect((await viaService.list()).map((x) => x.sid)).toEqual([w.sid]);

    const s = await v1().services.create({ friendlyName: 'other' });
    const sc = await v1().services(s.sid).conversations.create({});
    const scoped = v1().services(s.sid).conversations(sc.sid).webhooks;
    const sw = await scoped.create({ target: 'studio', 'configuration.flowSid': FLOW });
    expect(sw.chatServiceSid).toBe(s.sid);
    expect(sw.conversationSid).toBe(sc.sid);
    expect((await scoped.list()).map((x) => x.sid)).toEqual([sw.sid]);
    const su = await scoped(sw.sid).update({ 'configuration.flowSid': 'FW' + 'e'.repeat(32) });
    expect(su.configuration).toEqual({ flow_sid: 'FW' + 'e'.repeat(32) });
    // the service's conversation is not reachable through the default service's routes
    await expectTwilioError(hooksOf(sc.sid).list(), 404, 20404);
    await expectTwilioError(viaService(sw.sid).fetch(), 404, 20404);
    expect(await scoped(sw.sid).remove()).toBe(true);
    expect(await scoped.list()).toEqual([]);
  });

  it('deleting the conversation deletes its webhooks', async () => {
    const c = await newConversation();
    const keep = await newConversation();
    await hooksOf(c.sid).create(webhook());
    await hooksOf(c.sid).create({ target: 'studio', 'configuration.flowSid': FLOW });
    const kept = await hooksOf(keep.sid).create(webhook());
    expect(storedFor(c.sid)).toBe(2);
    await v1().conversations(c.sid).remove();
    expect(storedFor(c.sid)).toBe(0);
    await expectTwilioError(hooksOf(c.sid).list(), 404, 20404);
    expect((await hooksOf(keep.sid).list()).map((w) => w.sid)).toEqual([kept.sid]);
  });
});
