/**
 * Post-event webhooks through a real consumer: the exact form fields of each event type, signed (checked with the
 * SDK's validateRequest), account vs service configuration, Filters, GET, the echo rule and conversation-scoped
 * webhooks (webhook, trigger, studio).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryView } from '../src/emulator/webhooks/service.js';
import { useEmulator } from './support/emulator.js';
import { useReceiver, type Params } from './support/webhook-receiver.js';

const t = useEmulator({ clock: 'manual' });

const rx = useReceiver(() => t.emulator.authToken);

const ON = { xTwilioWebhookEnabled: 'true' as const };
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ADDR = '+15558675310';
const PROXY = '+15017122661';
const v1 = () => t.client.conversations.v1;
const serviceHooks = () => v1().services(t.emulator.defaultServiceSid).configuration.webhooks();
const configure = (filters: string[], method: 'POST' | 'GET' = 'POST', url = rx.url()) =>
  serviceHooks().update({ postWebhookUrl: url, filters, method });

/** wait until a delivery of this event (for this conversation) is delivered, and return what the consumer got */
async function received(eventType: string, match: (p: Params) => boolean = () => true): Promise<Params> {
  const d = await t.emulator.control.waitForDelivery((x) => x.state === 'delivered' && x.eventType === eventType && match(x.params), 5000);
  const r = rx.requests.find((q) => q.idempotencyToken === d.idempotencyToken);
  expect(r, `the consumer got ${eventType}`).toBeDefined();
  expect(r?.signatureValid).toBe(true);
  return r!.params;
}
const inConversation = (ch: string) => (p: Params) => p.ConversationSid === ch;
const common = (eventType: string) => ({ AccountSid: t.emulator.accountSid, EventType: eventType, Source: 'API', RetryCount: '0' });
/** a webhook date (milliseconds) is the REST date (seconds) plus its sub-second part */
function sameSecond(webhookDate: string | string[] | undefined, rest: Date) {
  expect(webhookDate).toMatch(ISO_MS);
  expect(Math.floor(Date.parse(webhookDate as string) / 1000) * 1000).toBe(rest.getTime());
}

describe('post-event fields', () => {
  it('onConversationAdded / Updated / Removed, with headers and signature', async () => {
    await configure(['onConversationAdded', 'onConversationUpdated', 'onConversationRemoved']);
    const c = await v1().conversations.create({ friendlyName: 'room', uniqueName: 'u-room', attributes: '{"a":1}', ...ON });
    const added = await received('onConversationAdded', inConversation(c.sid));
    const base = {
      ConversationSid: c.sid,
      ChatServiceSid: t.emulator.defaultServiceSid,
      MessagingServiceSid: c.messagingServiceSid ?? undefined,
      FriendlyName: 'room',
      UniqueName: 'u-room',
      Attributes: '{"a":1}',
      State: 'active',
    };
    expect(added).toEqual({ ...common('onConversationAdded'), ...base, DateCreated: added.DateCreated, DateUpdated: added.DateUpdated });
    sameSecond(added.DateCreated, c.dateCreated);
    sameSecond(added.DateUpdated, c.dateUpdated);
    const req = rx.requests.find((r) => r.params.EventType === 'onConversationAdded')!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hook');
    expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.idempotencyToken).toMatch(/^[0-9a-f]{16,}$/);
    expect(req.rawHeaders.map((h) => h.toLowerCase())).toContain('i-twilio-idempotency-token');

    await v1().conversations(c.sid).update({ friendlyName: 'renamed', ...ON });
    const updated = await received('onConversationUpdated', inConversation(c.sid));
    expect(updated).toMatchObject({ ...common('onConversationUpdated'), ...base, FriendlyName: 'renamed' });
    expect(updated.DateUpdated).toMatch(ISO_MS);
    expect(updated).not.toHaveProperty('DateRemoved');

    t.emulator.clock.advance(7);
    await v1().conversations(c.sid).remove(ON);
    const removed = await received('onConversationRemoved', inConversation(c.sid));
    expect(removed).toMatchObject({ ...common('onConversationRemoved'), ...base, FriendlyName: 'renamed' });
    expect(removed.DateRemoved).toMatch(ISO_MS);
    expect(Date.parse(removed.DateRemoved as string)).toBe(t.emulator.clock.now().getTime());
    // three changes, three deliveries, three distinct tokens
    expect(new Set(rx.requests.map((r) => r.idempotencyToken)).size).toBe(3);
  });

  it('onConversationStateUpdated: Reason API on a REST change, TIMER when a timer moves it', async () => {
    await configure(['onConversationUpdated', 'onConversationStateUpdated']);
    const c = await v1().conversations.create({ friendlyName: 'stateful' });
    await v1().conversations(c.sid).update({ state: 'inactive', ...ON });
    const api = await received('onConversationStateUpdated', inConversation(c.sid));
    expect(api).toEqual({
      ...common('onConversationStateUpdated'),
      ChatServiceSid: t.emulator.defaultServiceSid,
      ConversationSid: c.sid,
      MessagingServiceSid: c.messagingServiceSid ?? undefined,
      StateUpdated: api.StateUpdated,
      StateFrom: 'active',
      StateTo: 'inactive',
      Reason: 'API',
    });
    expect(api.StateUpdated).toMatch(ISO_MS);
    expect((await received('onConversationUpdated', inConversation(c.sid))).State).toBe('inactive');

    const timed = await v1().conversations.create({ friendlyName: 'timed', 'timers.inactive': 'PT5M' });
    t.emulator.clock.advance(5 * 60 + 1);
    const timer = await received('onConversationStateUpdated', inConversation(timed.sid));
    expect(timer).toMatchObject({ StateFrom: 'active', StateTo: 'inactive', Reason: 'TIMER', Source: 'API', ConversationSid: timed.sid });
    // a timer announces only the state change
    expect(t.emulator.control.deliveries({ conversationSid: timed.sid }).map((d) => d.eventType)).toEqual(['onConversationStateUpdated']);
  });

  it('onParticipantAdded / Updated / Removed with CHAT, SMS and WHATSAPP bindings', async () => {
    await configure(['onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved']);
    const c = await v1().conversations.create({ friendlyName: 'people' });
    const parts = v1().conversations(c.sid).participants;
    const alice = await parts.create({ identity: 'alice', attributes: '{"x":true}', ...ON });
    const added = await received('onParticipantAdded', (p) => p.ParticipantSid === alice.sid);
    expect(added).toEqual({
      ...common('onParticipantAdded'),
      ConversationSid: c.sid,
      ParticipantSid: alice.sid,
      Identity: 'alice',
      RoleSid: alice.roleSid,
      Attributes: '{"x":true}',
      'MessagingBinding.Type': 'CHAT',
      DateCreated: added.DateCreated,
      DateUpdated: added.DateUpdated,
    });
    sameSecond(added.DateCreated, alice.dateCreated);

    const sms = await parts.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY, ...ON });
    const smsAdded = await received('onParticipantAdded', (p) => p.ParticipantSid === sms.sid);
    expect(smsAdded).toMatchObject({ 'MessagingBinding.Type': 'SMS', 'MessagingBinding.Address': ADDR, 'MessagingBinding.ProxyAddress': PROXY });
    expect(smsAdded).not.toHaveProperty('Identity');
    const wa = await parts.create({ 'messagingBinding.address': `whatsapp:+15558675399`, 'messagingBinding.proxyAddress': `whatsapp:${PROXY}`, ...ON });
    const waAdded = await received('onParticipantAdded', (p) => p.ParticipantSid === wa.sid);
    expect(waAdded).toMatchObject({ 'MessagingBinding.Type': 'WHATSAPP', 'MessagingBinding.Address': 'whatsapp:+15558675399' });

    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'one' });
    await v1().conversations(c.sid).messages.create({ author: 'alice', body: 'two' });
    await parts(alice.sid).update({ lastReadMessageIndex: 1, ...ON });
    const updated = await received('onParticipantUpdated', (p) => p.ParticipantSid === alice.sid);
    expect(updated).toMatchObject({ ...common('onParticipantUpdated'), Identity: 'alice', LastReadMessageIndex: '1', 'MessagingBinding.Type': 'CHAT' });

    await parts(sms.sid).remove(ON);
    const removed = await received('onParticipantRemoved', (p) => p.ParticipantSid === sms.sid);
    expect(removed).toMatchObject({ ...common('onParticipantRemoved'), 'MessagingBinding.Type': 'SMS', 'MessagingBinding.Address': ADDR });
    expect(removed.DateRemoved).toMatch(ISO_MS);
  });

  it('onMessageAdded / Updated / Removed carry Index, Author, ParticipantSid, MessagingServiceSid and dates', async () => {
    await configure(['onMessageAdded', 'onMessageUpdated', 'onMessageRemoved']);
    const c = await v1().conversations.create({ friendlyName: 'talk' });
    const alice = await v1().conversations(c.sid).participants.create({ identity: 'alice' });
    const messages = v1().conversations(c.sid).messages;
    await messages.create({ author: 'system', body: 'zero' });
    const m = await messages.create({ author: 'alice', body: 'hello', attributes: '{"k":"v"}', ...ON });
    const added = await received('onMessageAdded', (p) => p.MessageSid === m.sid);
    expect(added).toEqual({
      ...common('onMessageAdded'),
      ConversationSid: c.sid,
      MessageSid: m.sid,
      MessagingServiceSid: c.messagingServiceSid ?? undefined,
      Index: '1',
      Body: 'hello',
      Author: 'alice',
      ParticipantSid: alice.sid,
      Attributes: '{"k":"v"}',
      DateCreated: added.DateCreated,
    });
    sameSecond(added.DateCreated, m.dateCreated);
    expect(c.messagingServiceSid).toMatch(/^MG/);

    const anon = await messages.create({ author: 'nobody', body: 'anon', ...ON });
    const anonAdded = await received('onMessageAdded', (p) => p.MessageSid === anon.sid);
    expect(anonAdded).toMatchObject({ Author: 'nobody', Index: '2' });
    expect(anonAdded).not.toHaveProperty('ParticipantSid');

    await messages(m.sid).update({ body: 'edited', ...ON });
    const updated = await received('onMessageUpdated', (p) => p.MessageSid === m.sid);
    expect(updated).toMatchObject({ ...common('onMessageUpdated'), Body: 'edited', Index: '1', ParticipantSid: alice.sid });
    expect(updated.DateUpdated).toMatch(ISO_MS);
    await messages(m.sid).remove(ON);
    const removed = await received('onMessageRemoved', (p) => p.MessageSid === m.sid);
    expect(removed).toMatchObject({ ...common('onMessageRemoved'), Body: 'edited', Index: '1' });
    expect(removed.DateRemoved).toMatch(ISO_MS);
    expect(removed.DateUpdated).toMatch(ISO_MS);
  });

  it('Media is a JSON string of PascalCase items (Sid, Filename, ContentType, Size, Category) on onMessageAdd / Added / Updated / Removed; REST media items carry category "media"', async () => {
    await serviceHooks().update({ preWebhookUrl: rx.url('/pre'), postWebhookUrl: rx.url(), filters: ['onMessageAdd', 'onMessageAdded', 'onMessageUpdated', 'onMessageRemoved'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'media' });
    const mediaSid = 'ME' + 'cd'.repeat(16);
    const m = await v1().conversations(c.sid).messages.create({ mediaSid, ...ON });
    // REST: snake_case, with the category Twilio adds (the spec's media items are a loose object list)
    expect(m.media).toEqual([{ sid: mediaSid, size: 0, content_type: 'application/octet-stream', filename: null, category: 'media' }]);
    const webhook = [{ Sid: mediaSid, Filename: null, ContentType: 'application/octet-stream', Size: 0, Category: 'media' }];
    const pre = rx.requests.find((r) => r.path === '/pre' && r.params.EventType === 'onMessageAdd');
    expect(pre?.signatureValid).toBe(true);
    expect(pre?.params).not.toHaveProperty('MediaSid');
    expect(JSON.parse(pre?.params.Media as string)).toEqual(webhook);
    const added = await received('onMessageAdded', (p) => p.MessageSid === m.sid);
    expect(JSON.parse(added.Media as string)).toEqual(webhook);
    await v1().conversations(c.sid).messages(m.sid).update({ attributes: '{"seen":true}', ...ON });
    expect(JSON.parse((await received('onMessageUpdated', (p) => p.MessageSid === m.sid)).Media as string)).toEqual(webhook);
    await v1().conversations(c.sid).messages(m.sid).remove(ON);
    expect(JSON.parse((await received('onMessageRemoved', (p) => p.MessageSid === m.sid)).Media as string)).toEqual(webhook);
    // a public Flex channel handler reads exactly these keys
    const [item] = JSON.parse(added.Media as string) as { Sid: string; ContentType: string; Filename: string | null }[];
    expect([item.Sid, item.ContentType, item.Filename]).toEqual([mediaSid, 'application/octet-stream', null]);
  });

  it('a message that wakes an inactive conversation fires onConversationStateUpdated, Reason EVENT (with the header; without it, nothing)', async () => {
    await configure(['onConversationUpdated', 'onConversationStateUpdated', 'onMessageAdded']);
    const c = await v1().conversations.create({ friendlyName: 'sleepy' });
    await v1().conversations(c.sid).update({ state: 'inactive' });
    t.emulator.clock.advance(30);
    const m = await v1().conversations(c.sid).messages.create({ body: 'wake up', ...ON });
    const woke = await received('onConversationStateUpdated', inConversation(c.sid));
    expect(woke).toEqual({
      ...common('onConversationStateUpdated'),
      ChatServiceSid: t.emulator.defaultServiceSid,
      ConversationSid: c.sid,
      MessagingServiceSid: c.messagingServiceSid ?? undefined,
      StateUpdated: woke.StateUpdated,
      StateFrom: 'inactive',
      StateTo: 'active',
      Reason: 'EVENT',
    });
    expect(Date.parse(woke.StateUpdated as string)).toBe(t.emulator.clock.now().getTime());
    const fetched = await v1().conversations(c.sid).fetch();
    expect(fetched.state).toBe('active');
    expect(fetched.dateUpdated.getTime()).toBe(Math.floor(t.emulator.clock.now().getTime() / 1000) * 1000);
    await received('onMessageAdded', (p) => p.MessageSid === m.sid);
    // the message moved only the state: announced as a state change, not as an update, and before the message
    expect(t.emulator.control.deliveries({ conversationSid: c.sid }).map((d) => d.eventType)).toEqual(['onConversationStateUpdated', 'onMessageAdded']);

    // the echo rule holds: without the header the conversation wakes silently
    const quiet = await v1().conversations.create({ friendlyName: 'quiet' });
    await v1().conversations(quiet.sid).update({ state: 'inactive' });
    await v1().conversations(quiet.sid).messages.create({ body: 'shh' });
    expect((await v1().conversations(quiet.sid).fetch()).state).toBe('active');
    const barrier = await v1().conversations(c.sid).messages.create({ body: 'barrier', ...ON });
    await received('onMessageAdded', (p) => p.MessageSid === barrier.sid);
    expect(t.emulator.control.deliveries({ conversationSid: quiet.sid })).toEqual([]);
  });

  it('onUserAdded when a chat participant joins, onUserUpdated on an update (account configuration)', async () => {
    await v1().configuration.webhooks().update({ postWebhookUrl: rx.url('/account'), filters: ['onUserAdded', 'onUserUpdated'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'users' });
    await v1().conversations(c.sid).participants.create({ identity: 'bob', ...ON });
    const added = await received('onUserAdded', (p) => p.Identity === 'bob');
    const user = await v1().users('bob').fetch();
    expect(added).toEqual({
      ...common('onUserAdded'),
      ChatServiceSid: t.emulator.defaultServiceSid,
      UserSid: user.sid,
      Identity: 'bob',
      RoleSid: user.roleSid,
      Attributes: '{}',
      DateCreated: added.DateCreated,
      DateUpdated: added.DateUpdated,
    });
    await v1().users(user.sid).update({ friendlyName: 'Bob B', ...ON });
    const updated = await received('onUserUpdated', (p) => p.UserSid === user.sid);
    expect(updated).toMatchObject({ ...common('onUserUpdated'), FriendlyName: 'Bob B', Identity: 'bob' });
    expect(rx.requests.every((r) => r.path === '/account')).toBe(true);
  });
});

describe('pre-event fields', () => {
  const pre = (eventType: string) => {
    const r = rx.requests.find((q) => q.path === '/pre' && q.params.EventType === eventType);
    expect(r, `the consumer got ${eventType}`).toBeDefined();
    expect(r?.signatureValid).toBe(true);
    return r!.params;
  };

  it('onConversationAdd carries the defaulted MessagingServiceSid', async () => {
    await serviceHooks().update({ preWebhookUrl: rx.url('/pre'), filters: ['onConversationAdd'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'defaulted', ...ON });
    expect(c.messagingServiceSid).toMatch(/^MG[0-9a-f]{32}$/);
    expect(pre('onConversationAdd')).toEqual({
      AccountSid: t.emulator.accountSid,
      EventType: 'onConversationAdd',
      Source: 'API',
      ChatServiceSid: t.emulator.defaultServiceSid,
      MessagingServiceSid: c.messagingServiceSid,
      FriendlyName: 'defaulted',
      Attributes: '{}',
      State: 'active',
    });
  });

  it('onParticipantAdd carries RoleSid (the service default) and MessagingBinding.Type', async () => {
    await serviceHooks().update({ preWebhookUrl: rx.url('/pre'), filters: ['onParticipantAdd'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'roles' });
    const bob = await v1().conversations(c.sid).participants.create({ identity: 'bob', ...ON });
    expect(bob.roleSid).toMatch(/^RL[0-9a-f]{32}$/);
    expect(pre('onParticipantAdd')).toEqual({
      AccountSid: t.emulator.accountSid,
      EventType: 'onParticipantAdd',
      Source: 'API',
      ConversationSid: c.sid,
      Identity: 'bob',
      RoleSid: bob.roleSid,
      Attributes: '{}',
      'MessagingBinding.Type': 'CHAT',
    });
    rx.clear();
    await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': ADDR, 'messagingBinding.proxyAddress': PROXY, ...ON });
    expect(pre('onParticipantAdd')).toMatchObject({ RoleSid: bob.roleSid, 'MessagingBinding.Type': 'SMS', 'MessagingBinding.Address': ADDR, 'MessagingBinding.ProxyAddress': PROXY });
    rx.clear();
    await v1().conversations(c.sid).participants.create({ 'messagingBinding.address': 'whatsapp:+15558675398', 'messagingBinding.proxyAddress': `whatsapp:${PROXY}`, ...ON });
    expect(pre('onParticipantAdd')).toMatchObject({ 'MessagingBinding.Type': 'WHATSAPP' });
  });

  it('onMessageAdd carries ParticipantSid when the author is a participant, and none otherwise', async () => {
    await serviceHooks().update({ preWebhookUrl: rx.url('/pre'), filters: ['onMessageAdd'], method: 'POST' });
    const c = await v1().conversations.create({ friendlyName: 'authors' });
    const carol = await v1().conversations(c.sid).participants.create({ identity: 'carol' });
    await v1().conversations(c.sid).messages.create({ author: 'carol', body: 'mine', ...ON });
    expect(pre('onMessageAdd')).toEqual({
      AccountSid: t.emulator.accountSid,
      EventType: 'onMessageAdd',
      Source: 'API',
      ConversationSid: c.sid,
      Author: 'carol',
      ParticipantSid: carol.sid,
      Body: 'mine',
      Attributes: '{}',
    });
    rx.clear();
    await v1().conversations(c.sid).messages.create({ author: 'stranger', body: 'not mine', ...ON });
    expect(pre('onMessageAdd')).not.toHaveProperty('ParticipantSid');
  });
});

describe('configuration, filters, method and the echo rule', () => {
  it('uses the account configuration when the service has none; the service configuration overrides it', async () => {
    await v1().configuration.webhooks().update({ postWebhookUrl: rx.url('/account'), filters: ['onConversationAdded'], method: 'POST' });
    const a = await v1().conversations.create({ friendlyName: 'a', ...ON });
    await received('onConversationAdded', inConversation(a.sid));
    await configure(['onConversationAdded'], 'POST', rx.url('/service'));
    const b = await v1().conversations.create({ friendlyName: 'b', ...ON });
    await received('onConversationAdded', inConversation(b.sid));
    expect(rx.requests.map((r) => [r.path, r.params.ConversationSid])).toEqual([
      ['/account', a.sid],
      ['/service', b.sid],
    ]);
  });

  it('sends only the events in Filters', async () => {
    await configure(['onMessageAdded']);
    const c = await v1().conversations.create({ friendlyName: 'filtered', ...ON });
    await v1().conversations(c.sid).participants.create({ identity: 'carol', ...ON });
    const m = await v1().conversations(c.sid).messages.create({ body: 'hi', ...ON });
    await received('onMessageAdded', (p) => p.MessageSid === m.sid);
    expect(rx.requests.map((r) => r.params.EventType)).toEqual(['onMessageAdded']);
    expect(t.emulator.control.deliveries().map((d) => d.eventType)).toEqual(['onMessageAdded']);
  });

  it('Method GET puts the fields in the query string, signed over the full URL', async () => {
    await configure(['onConversationAdded'], 'GET', rx.url('/get-hook?static=1'));
    const c = await v1().conversations.create({ friendlyName: 'with space & amp', ...ON });
    const p = await received('onConversationAdded', inConversation(c.sid));
    expect(p).toMatchObject({ static: '1', FriendlyName: 'with space & amp', EventType: 'onConversationAdded', RetryCount: '0' });
    const r = rx.requests[0];
    expect(r.method).toBe('GET');
    expect(r.body).toBe('');
    expect(r.path.startsWith('/get-hook?static=1&')).toBe(true);
    expect(r.signatureValid).toBe(true);
  });

  it('a POST URL with a query string is signed with it (and sent to it)', async () => {
    await configure(['onConversationAdded'], 'POST', rx.url('/q?tenant=a%20b&x=1'));
    const c = await v1().conversations.create({ friendlyName: 'query', ...ON });
    await received('onConversationAdded', inConversation(c.sid));
    expect(rx.requests.map((r) => [r.method, r.path, r.params.ConversationSid, r.signatureValid])).toEqual([['POST', '/q?tenant=a%20b&x=1', c.sid, true]]);
  });

  it('REST changes without X-Twilio-Webhook-Enabled fire nothing', async () => {
    await configure(['onConversationAdded', 'onMessageAdded', 'onParticipantAdded', 'onConversationUpdated']);
    const quiet = await v1().conversations.create({ friendlyName: 'quiet' });
    await v1().conversations(quiet.sid).participants.create({ identity: 'dave' });
    await v1().conversations(quiet.sid).messages.create({ body: 'silent' });
    await v1().conversations(quiet.sid).update({ friendlyName: 'still quiet', xTwilioWebhookEnabled: 'false' });
    // a later delivery on the same URL is the barrier: everything enqueued before it has had its chance
    const loud = await v1().conversations.create({ friendlyName: 'loud', ...ON });
    await received('onConversationAdded', inConversation(loud.sid));
    expect(t.emulator.control.deliveries({ conversationSid: quiet.sid })).toEqual([]);
    expect(rx.requests.map((r) => r.params.ConversationSid)).toEqual([loud.sid]);
  });
});

describe('conversation-scoped webhooks', () => {
  it('a webhook target gets WebhookSid and WebhookType for its filtered events', async () => {
    const c = await v1().conversations.create({ friendlyName: 'scoped' });
    const hook = await v1().conversations(c.sid).webhooks.create({
      target: 'webhook',
      'configuration.url': rx.url('/scoped'),
      'configuration.filters': ['onMessageAdded'],
      'configuration.method': 'post',
    });
    await v1().conversations(c.sid).participants.create({ identity: 'erin', ...ON });
    const m = await v1().conversations(c.sid).messages.create({ author: 'erin', body: 'scoped hello', ...ON });
    const p = await received('onMessageAdded', (x) => x.MessageSid === m.sid);
    expect(p).toMatchObject({ ...common('onMessageAdded'), WebhookSid: hook.sid, WebhookType: 'webhook', Body: 'scoped hello', Index: '0' });
    const d = t.emulator.control.deliveries({ conversationSid: c.sid });
    expect(d.map((x) => [x.kind, x.eventType, x.webhookSid])).toEqual([['scoped', 'onMessageAdded', hook.sid]]);
    expect(rx.requests.map((r) => r.path)).toEqual(['/scoped']);
  });

  it('a trigger webhook fires only for messages matching a keyword', async () => {
    const c = await v1().conversations.create({ friendlyName: 'triggers' });
    const hook = await v1().conversations(c.sid).webhooks.create({
      target: 'trigger',
      'configuration.url': rx.url('/trigger'),
      'configuration.method': 'post',
      'configuration.triggers': ['help', 'agent'],
    });
    const bodies = ['hello', 'HELP me', 'helpful', 'agent', 'need an agent'];
    for (const body of bodies) await v1().conversations(c.sid).messages.create({ body, ...ON });
    const last = await v1().conversations(c.sid).messages.create({ body: 'help', ...ON });
    await received('onMessageAdded', (x) => x.MessageSid === last.sid);
    expect(rx.requests.map((r) => r.params.Body)).toEqual(['HELP me', 'agent', 'help']);
    expect(rx.requests.every((r) => r.params.WebhookSid === hook.sid && r.params.WebhookType === 'trigger')).toBe(true);
  });

  it('a studio target is journaled (kind and state studio), never sent', async () => {
    const c = await v1().conversations.create({ friendlyName: 'studio' });
    const flow = 'FW' + 'a'.repeat(32);
    const hook = await v1().conversations(c.sid).webhooks.create({ target: 'studio', 'configuration.flowSid': flow });
    const m = await v1().conversations(c.sid).messages.create({ body: 'to the flow', ...ON });
    const d: DeliveryView = await t.emulator.control.waitForDelivery((x) => x.kind === 'studio' && x.params.MessageSid === m.sid, 5000);
    expect(d).toMatchObject({ state: 'studio', eventType: 'onMessageAdded', webhookSid: hook.sid, url: `studio:${flow}`, attempts: [] });
    expect(d.params).toMatchObject({ WebhookSid: hook.sid, WebhookType: 'studio', Body: 'to the flow' });
    expect(rx.requests).toEqual([]);
  });
});
