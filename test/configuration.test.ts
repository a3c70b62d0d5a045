import { describe, expect, it } from 'vitest';
import { expectTwilioError, useEmulator, type TwilioClient } from './support/emulator.js';
import { SID } from './support/spec.js';

const t = useEmulator({ clock: 'manual' });

const v1 = () => t.client.conversations.v1;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const json = (body: object) => ({ body: JSON.stringify(body), contentType: 'application/json', auth: null });

/**
 * A fresh account of its own: account configuration survives /_emulator/reset, so tests that change it work on
 * an account nobody else uses.
 */
async function freshAccount(): Promise<{ sid: string; token: string; defaultServiceSid: string; client: TwilioClient }> {
  const r = await t.http('POST', '/_emulator/accounts', json({}));
  expect(r.status).toBe(201);
  const { accountSid: sid, authToken: token, defaultServiceSid } = r.body;
  return { sid, token, defaultServiceSid, client: t.clientFor(sid, token) };
}

describe('Account Configuration', () => {
  it('starts with the default service, a messaging service and no timers', async () => {
    const c = await v1().configuration().fetch();
    expect(c.accountSid).toBe(t.emulator.accountSid);
    expect(c.defaultChatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(c.defaultMessagingServiceSid).toMatch(SID.messagingService);
    expect(c.defaultInactiveTimer).toBeNull();
    expect(c.defaultClosedTimer).toBeNull();
    expect(c.url).toBe(`${t.emulator.url}/v1/Configuration`);
    expect(c.links).toEqual({
      service: `${t.emulator.url}/v1/Services/${t.emulator.defaultServiceSid}/Configuration`,
      webhooks: `${t.emulator.url}/v1/Configuration/Webhooks`,
    });
    // new conversations carry the account's messaging service
    const conv = await v1().conversations.create({});
    expect(conv.messagingServiceSid).toBe(c.defaultMessagingServiceSid);
  });

  it('switches the default chat service: /v1/Conversations then lives there, and the old default can go', async () => {
    const a = await freshAccount();
    const conf = a.client.conversations.v1;
    const before = await conf.conversations.create({ friendlyName: 'old home' });
    const s = await conf.services.create({ friendlyName: 'new home' });
    const updated = await conf.configuration().update({ defaultChatServiceSid: s.sid });
    expect(updated.defaultChatServiceSid).toBe(s.sid);
    expect(updated.links.service).toBe(`${t.emulator.url}/v1/Services/${s.sid}/Configuration`);
    expect((await conf.configuration().fetch()).defaultChatServiceSid).toBe(s.sid);

    const after = await conf.conversations.create({ friendlyName: 'new' });
    expect(after.chatServiceSid).toBe(s.sid);
    expect((await conf.conversations.list()).map((c) => c.sid)).toEqual([after.sid]);
    expect((await conf.services(s.sid).conversations.list()).map((c) => c.sid)).toEqual([after.sid]);
    expect((await conf.services(a.defaultServiceSid).conversations.list()).map((c) => c.sid)).toEqual([before.sid]);

    // the new default is protected, the old one no longer is
    await expectTwilioError(conf.services(s.sid).remove(), 400, 50105);
    await conf.services(a.defaultServiceSid).remove();
    await expectTwilioError(conf.services(a.defaultServiceSid).fetch(), 404, 20404);
    expect((await conf.conversations(after.sid).fetch()).friendlyName).toBe('new');
  });

  it('refuses an unknown or foreign DefaultChatServiceSid and keeps the old one', async () => {
    const a = await freshAccount();
    await expectTwilioError(v1().configuration().update({ defaultChatServiceSid: 'IS' + '0'.repeat(32) }), 400, 20001);
    // a service of another account is unknown here
    await expectTwilioError(v1().configuration().update({ defaultChatServiceSid: a.defaultServiceSid }), 400, 20001);
    expect((await v1().configuration().fetch()).defaultChatServiceSid).toBe(t.emulator.defaultServiceSid);
  });

  it('switches the default messaging service for new conversations; refuses a non-MG SID', async () => {
    const a = await freshAccount();
    const conf = a.client.conversations.v1;
    const mg = 'MG' + '1'.repeat(32);
    expect((await conf.configuration().update({ defaultMessagingServiceSid: mg })).defaultMessagingServiceSid).toBe(mg);
    expect((await conf.conversations.create({})).messagingServiceSid).toBe(mg);
    await expectTwilioError(conf.configuration().update({ defaultMessagingServiceSid: 'not-a-sid' }), 400, 20001);
    expect((await conf.configuration().fetch()).defaultMessagingServiceSid).toBe(mg);
  });

  it('applies DefaultInactiveTimer / DefaultClosedTimer to new conversations only', async () => {
    const a = await freshAccount();
    const conf = a.client.conversations.v1;
    const old = await conf.conversations.create({});
    const updated = await conf.configuration().update({ defaultInactiveTimer: 'PT5M', defaultClosedTimer: 'PT1H' });
    expect(updated.defaultInactiveTimer).toBe('PT5M');
    expect(updated.defaultClosedTimer).toBe('PT1H');

    t.emulator.clock.advance(30);
    const now = t.emulator.clock.now().getTime();
    const c = await conf.conversations.create({});
    expect(c.timers).toEqual({ date_inactive: iso(now + 5 * 60_000), date_closed: iso(now + 3_600_000) });
    expect((await conf.conversations(old.sid).fetch()).timers).toEqual({});
    // explicit timers of the request win over the account defaults
    const own = await conf.conversations.create({ 'timers.inactive': 'PT10M' });
    expect(own.timers).toEqual({ date_inactive: iso(now + 10 * 60_000), date_closed: iso(now + 3_600_000) });

    t.emulator.clock.advance(5 * 60);
    expect((await conf.conversations(c.sid).fetch()).state).toBe('inactive');
    expect((await conf.conversations(old.sid).fetch()).state).toBe('active');

    // an empty value removes the default
    const raw = await t.http('POST', '/v1/Configuration', { form: { DefaultInactiveTimer: '' }, auth: [a.sid, a.token] });
    expect(raw.status).toBe(200);
    expect(raw.body.default_inactive_timer).toBeNull();
    expect(raw.body.default_closed_timer).toBe('PT1H');
    expect((await conf.conversations.create({})).timers).toEqual({ date_closed: iso(t.emulator.clock.now().getTime() + 3_600_000) });
  });

  it('refuses a timer that is no duration (50379 / 50380) or below the minimum (50375 / 50376)', async () => {
    await expectTwilioError(v1().configuration().update({ defaultInactiveTimer: 'soon' }), 400, 50379);
    await expectTwilioError(v1().configuration().update({ defaultInactiveTimer: 'PT30S' }), 400, 50375);
    await expectTwilioError(v1().configuration().update({ defaultClosedTimer: 'PT5M' }), 400, 50376);
    const c = await v1().configuration().fetch();
    expect(c.defaultInactiveTimer).toBeNull();
    expect(c.defaultClosedTimer).toBeNull();
  });
});

describe('Configuration/Webhooks (account)', () => {
  const hooks = () => v1().configuration.webhooks();

  it('starts with POST, no filters, no URLs and target webhook', async () => {
    const w = await hooks().fetch();
    expect(w.accountSid).toBe(t.emulator.accountSid);
    expect(w.method).toBe('POST');
    expect(w.filters).toEqual([]);
    expect(w.preWebhookUrl).toBeNull();
    expect(w.postWebhookUrl).toBeNull();
    expect(w.target).toBe('webhook');
    expect(w.url).toBe(`${t.emulator.url}/v1/Configuration/Webhooks`);
  });

  it('updates URLs, repeated Filters, Method (any case → upper) and Target', async () => {
    const w = await hooks().update({
      preWebhookUrl: 'https://example.com/pre',
      postWebhookUrl: 'https://example.com/post',
      filters: ['onMessageAdd', 'onMessageAdded', 'onConversationRemoved'],
      method: 'get',
      target: 'flex',
    });
    expect(w.preWebhookUrl).toBe('https://example.com/pre');
    expect(w.postWebhookUrl).toBe('https://example.com/post');
    expect(w.filters).toEqual(['onMessageAdd', 'onMessageAdded', 'onConversationRemoved']);
    expect(w.method).toBe('GET');
    expect(w.target).toBe('flex');
    expect(await hooks().fetch()).toMatchObject({ method: 'GET', filters: w.filters, target: 'flex', preWebhookUrl: w.preWebhookUrl });
    // one Filters value is still a list; an empty URL removes it; untouched fields stay
    const raw = await t.http('POST', '/v1/Configuration/Webhooks', { form: { Filters: 'onParticipantAdded', PreWebhookUrl: '', Method: 'Post' } });
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ filters: ['onParticipantAdded'], pre_webhook_url: null, post_webhook_url: 'https://example.com/post', method: 'POST', target: 'flex' });
  });

  it('refuses a bad URL, Method or Target and changes nothing', async () => {
    await expectTwilioError(hooks().update({ postWebhookUrl: 'not a url' }), 400, 20001);
    await expectTwilioError(hooks().update({ preWebhookUrl: 'ftp://example.com/x' }), 400, 20001);
    await expectTwilioError(hooks().update({ method: 'PUT' }), 400, 20001);
    const target = await t.http('POST', '/v1/Configuration/Webhooks', { form: { Target: 'pager' } });
    expect(target.status).toBe(400);
    expect(await hooks().fetch()).toMatchObject({ method: 'POST', preWebhookUrl: null, postWebhookUrl: null, target: 'webhook' });
  });
});

describe('Service Configuration, Notifications and Webhooks', () => {
  const svc = () => v1().services(t.emulator.defaultServiceSid);

  it('serves the service configuration with its default roles and links', async () => {
    const c = await svc().configuration().fetch();
    expect(c.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(c.defaultConversationCreatorRoleSid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(c.defaultConversationRoleSid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(c.defaultChatServiceRoleSid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(c.reachabilityEnabled).toBe(false);
    const base = `${t.emulator.url}/v1/Services/${t.emulator.defaultServiceSid}/Configuration`;
    expect(c.url).toBe(base);
    expect(c.links).toEqual({ notifications: `${base}/Notifications`, webhooks: `${base}/Webhooks` });
    const u = await svc().configuration().update({ reachabilityEnabled: true });
    expect(u.reachabilityEnabled).toBe(true);
    expect(u.defaultConversationRoleSid).toBe(c.defaultConversationRoleSid);
    await expectTwilioError(svc().configuration().update({ defaultConversationRoleSid: 'RL' + '0'.repeat(32) }), 400, 20001);
  });

  it('starts notifications disabled and sets them with dotted parameters', async () => {
    const n0 = await svc().configuration.notifications().fetch();
    expect(n0.chatServiceSid).toBe(t.emulator.defaultServiceSid);
    expect(n0.logEnabled).toBe(false);
    expect(n0.newMessage).toEqual({ enabled: false, badge_count_enabled: false, with_media: { enabled: false } });
    expect(n0.addedToConversation).toEqual({ enabled: false });
    expect(n0.removedFromConversation).toEqual({ enabled: false });
    expect(n0.url).toBe(`${t.emulator.url}/v1/Services/${t.emulator.defaultServiceSid}/Configuration/Notifications`);

    const n = await svc().configuration.notifications().update({
      logEnabled: true,
      'newMessage.enabled': true,
      'newMessage.template': '${PARTICIPANT}: ${MESSAGE}',
      'newMessage.sound': 'ding.wav',
      'newMessage.badgeCountEnabled': true,
      'newMessage.withMedia.enabled': true,
      'newMessage.withMedia.template': '${PARTICIPANT} sent a file',
      'addedToConversation.enabled': true,
      'addedToConversation.template': 'You joined ${CONVERSATION}',
      'removedFromConversation.sound': 'bye.wav',
    });
    expect(n.logEnabled).toBe(true);
    expect(n.newMessage).toEqual({
      enabled: true,
      template: '${PARTICIPANT}: ${MESSAGE}',
      sound: 'ding.wav',
      badge_count_enabled: true,
      with_media: { enabled: true, template: '${PARTICIPANT} sent a file' },
    });
    expect(n.addedToConversation).toEqual({ enabled: true, template: 'You joined ${CONVERSATION}' });
    expect(n.removedFromConversation).toEqual({ enabled: false, sound: 'bye.wav' });
    expect((await svc().configuration.notifications().fetch()).newMessage).toEqual(n.newMessage);
    // another service keeps its own settings
    const other = await v1().services.create({ friendlyName: 'other' });
    expect((await v1().services(other.sid).configuration.notifications().fetch()).newMessage).toEqual(n0.newMessage);
  });

  it('updates the service webhooks and refuses bad URLs and methods', async () => {
    const hooks = () => svc().configuration.webhooks();
    const w0 = await hooks().fetch();
    expect(w0).toMatchObject({ chatServiceSid: t.emulator.defaultServiceSid, preWebhookUrl: null, postWebhookUrl: null, filters: [], method: 'POST' });
    const w = await hooks().update({ postWebhookUrl: 'https://example.com/svc', filters: ['onMessageAdded', 'onParticipantAdded'], method: 'get' });
    expect(w).toMatchObject({ postWebhookUrl: 'https://example.com/svc', filters: ['onMessageAdded', 'onParticipantAdded'], method: 'GET', preWebhookUrl: null });
    await expectTwilioError(hooks().update({ preWebhookUrl: 'nope' }), 400, 20001);
    await expectTwilioError(hooks().update({ method: 'DELETE' }), 400, 20001);
    expect(await hooks().fetch()).toMatchObject({ method: 'GET', preWebhookUrl: null, postWebhookUrl: 'https://example.com/svc' });
    // the account-level hooks are a different singleton
    expect((await v1().configuration.webhooks().fetch()).postWebhookUrl).toBeNull();
  });
});

describe('Configuration/Addresses', () => {
  const addrs = () => v1().addressConfigurations;
  const SMS = '+15017122661';
  const WA = 'whatsapp:+15017122662';
  const IG = /^IG[0-9a-f]{32}$/;

  it('creates an sms address with webhook auto-creation and fetches it by SID or by address', async () => {
    const a = await addrs().create({
      type: 'sms',
      address: SMS,
      friendlyName: 'support line',
      'autoCreation.enabled': true,
      'autoCreation.type': 'webhook',
      'autoCreation.conversationServiceSid': t.emulator.defaultServiceSid,
      'autoCreation.webhookUrl': 'https://example.com/auto',
      'autoCreation.webhookMethod': 'post',
      'autoCreation.webhookFilters': ['onParticipantAdded', 'onMessageAdded'],
    });
    expect(a.sid).toMatch(IG);
    expect(a.accountSid).toBe(t.emulator.accountSid);
    expect(a.type).toBe('sms');
    expect(a.address).toBe(SMS);
    expect(a.friendlyName).toBe('support line');
    // answered in the spelling the spec lists (get/post)
    expect(a.autoCreation).toEqual({
      enabled: true,
      type: 'webhook',
      conversation_service_sid: t.emulator.defaultServiceSid,
      webhook_url: 'https://example.com/auto',
      webhook_method: 'post',
      webhook_filters: ['onParticipantAdded', 'onMessageAdded'],
    });
    expect(a.url).toBe(`${t.emulator.url}/v1/Configuration/Addresses/${a.sid}`);
    expect((await addrs()(a.sid).fetch()).address).toBe(SMS);
    const byAddress = await t.http('GET', `/v1/Configuration/Addresses/${encodeURIComponent(SMS)}`);
    expect(byAddress.status).toBe(200);
    expect(byAddress.body.sid).toBe(a.sid);
  });

  it('creates a whatsapp address with studio auto-creation', async () => {
    const flow = 'FW' + 'a'.repeat(32);
    const a = await addrs().create({
      type: 'whatsapp',
      address: WA,
      'autoCreation.enabled': true,
      'autoCreation.type': 'studio',
      'autoCreation.studioFlowSid': flow,
      'autoCreation.studioRetryCount': 2,
    });
    expect(a.type).toBe('whatsapp');
    expect(a.address).toBe(WA);
    expect(a.friendlyName).toBeNull();
    expect(a.autoCreation).toEqual({ enabled: true, type: 'studio', studio_flow_sid: flow, studio_retry_count: 2 });
    const byAddress = await t.http('GET', `/v1/Configuration/Addresses/${encodeURIComponent(WA)}`);
    expect(byAddress.body.sid).toBe(a.sid);
    const plain = await addrs().create({ type: 'sms', address: '+15017122663' });
    expect(plain.autoCreation).toEqual({});
  });

  it('requires Type and Address, a valid address and a unique one', async () => {
    expect((await t.http('POST', '/v1/Configuration/Addresses', { form: { Address: SMS } })).body.code).toBe(20001);
    expect((await t.http('POST', '/v1/Configuration/Addresses', { form: { Type: 'sms' } })).body.code).toBe(20001);
    await expectTwilioError(addrs().create({ type: 'sms', address: 'not-a-number' }), 400, 50407);
    await expectTwilioError(addrs().create({ type: 'whatsapp', address: SMS }), 400, 50407);
    const first = await addrs().create({ type: 'sms', address: SMS });
    await expectTwilioError(addrs().create({ type: 'sms', address: SMS, friendlyName: 'again' }), 409, 50351);
    expect((await addrs().list()).map((a) => a.sid)).toEqual([first.sid]);
  });

  it('checks auto-creation: webhook needs a URL, the service must exist, studio needs a flow', async () => {
    await expectTwilioError(addrs().create({ type: 'sms', address: SMS, 'autoCreation.enabled': true, 'autoCreation.type': 'webhook' }), 400, 20001);
    await expectTwilioError(
      addrs().create({ type: 'sms', address: SMS, 'autoCreation.conversationServiceSid': 'IS' + '0'.repeat(32) }),
      400,
      20001,
    );
    await expectTwilioError(addrs().create({ type: 'sms', address: SMS, 'autoCreation.enabled': true, 'autoCreation.type': 'studio' }), 400, 20001);
    await expectTwilioError(addrs().create({ type: 'sms', address: SMS, 'autoCreation.webhookUrl': 'no url' }), 400, 20001);
    expect(await addrs().list()).toEqual([]);
  });

  it('updates and deletes', async () => {
    const a = await addrs().create({ type: 'sms', address: SMS, friendlyName: 'before' });
    const s = await v1().services.create({ friendlyName: 'auto' });
    const u = await addrs()(a.sid).update({
      friendlyName: 'after',
      'autoCreation.enabled': true,
      'autoCreation.type': 'default',
      'autoCreation.conversationServiceSid': s.sid,
    });
    expect(u.friendlyName).toBe('after');
    expect(u.address).toBe(SMS);
    expect(u.autoCreation).toEqual({ enabled: true, type: 'default', conversation_service_sid: s.sid });
    // switching to webhook without a URL is refused, the stored row stays
    await expectTwilioError(addrs()(a.sid).update({ 'autoCreation.type': 'webhook' }), 400, 20001);
    expect((await addrs()(a.sid).fetch()).autoCreation).toEqual(u.autoCreation);
    expect(await addrs()(a.sid).remove()).toBe(true);
    await expectTwilioError(addrs()(a.sid).fetch(), 404, 20404);
    await expectTwilioError(addrs()(a.sid).remove(), 404, 20404);
    // the address is free again
    expect((await addrs().create({ type: 'sms', address: SMS })).sid).not.toBe(a.sid);
  });

  it('lists with the Type filter and pages', async () => {
    const made: { sid: string; type: string }[] = [];
    for (let i = 0; i < 5; i++) made.push(await addrs().create({ type: 'sms', address: `+1501712270${i}` }));
    made.push(await addrs().create({ type: 'whatsapp', address: WA }));
    expect((await addrs().list()).map((a) => a.sid)).toEqual(made.map((m) => m.sid));
    expect((await addrs().list({ type: 'whatsapp' })).map((a) => a.sid)).toEqual([made[5].sid]);
    expect((await addrs().list({ type: 'sms' })).map((a) => a.sid)).toEqual(made.slice(0, 5).map((m) => m.sid));
    const page = await addrs().page({ pageSize: 2 });
    expect(page.instances.map((a) => a.sid)).toEqual(made.slice(0, 2).map((m) => m.sid));
    const next = await page.nextPage();
    expect(next?.instances.map((a) => a.sid)).toEqual(made.slice(2, 4).map((m) => m.sid));
    const all = await addrs().list({ pageSize: 4 });
    expect(all).toHaveLength(6);
  });
});
