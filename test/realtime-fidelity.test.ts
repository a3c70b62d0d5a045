/**
 * What Twilio reports about client SDK users beyond the SDK itself: webhooks of a client's actions carry its
 * `ClientIdentity` (REST's do not), and a REST User's `is_online` / `is_notifiable` follow its live connections and
 * push bindings when the service has the Reachability Indicator on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@twilio/conversations';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { sdkHarness } from './support/conversations-sdk.js';
import { startReceiver, type Received, type Receiver } from './support/webhook-receiver.js';

let t: TestEmulator;
let rx: Receiver;
const sdk = sdkHarness(() => t);

beforeAll(async () => {
  t = await startEmulator();
  rx = await startReceiver(() => t.emulator.authToken);
});
afterEach(async () => {
  await sdk.shutdown();
  t.emulator.reset();
  rx.clear();
});
afterAll(async () => {
  await rx.close();
  await t.emulator.close();
});

const v1 = () => t.client.conversations.v1;
const service = () => v1().services(t.emulator.defaultServiceSid);

/** the requests received so far once `count` of them match, within 5 s */
async function received(match: (r: Received) => boolean, count = 1): Promise<Received[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = rx.requests.filter(match);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${JSON.stringify(rx.requests.map((r) => r.params))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ClientIdentity in webhooks', () => {
  it("post-events of a client's message, edit and removal carry its identity; a REST message's do not", async () => {
    await service().configuration.webhooks().update({
      postWebhookUrl: rx.url('/post'),
      filters: ['onMessageAdded', 'onMessageUpdated', 'onMessageRemoved'],
      method: 'POST',
    });
    const sid = await sdk.conversationWith(['alice', 'bob']);
    const alice = await sdk.connect('alice');
    const conversation = await alice.getConversationBySid(sid);
    await conversation.sendMessage('from the browser');
    const mine = (await conversation.getMessages()).items.find((m) => m.author === 'alice') as Message;
    await mine.updateBody('edited');
    await mine.remove();
    await v1().conversations(sid).messages.create({ author: 'bob', body: 'from the server', xTwilioWebhookEnabled: 'true' });

    const hooks = await received(() => true, 4);
    expect(rx.invalid()).toEqual([]);
    const seen = hooks.map((r) => [r.params.EventType, r.params.Source, r.params.ClientIdentity, r.params.Body]);
    expect(seen).toEqual(expect.arrayContaining([
      ['onMessageAdded', 'SDK', 'alice', 'from the browser'],
      ['onMessageUpdated', 'SDK', 'alice', 'edited'],
      ['onMessageRemoved', 'SDK', 'alice', 'edited'],
      ['onMessageAdded', 'API', undefined, 'from the server'],
    ]));
    const rest = hooks.find((r) => r.params.Body === 'from the server');
    expect(rest && 'ClientIdentity' in rest.params).toBe(false);
  });

  it("conversation and participant post-events of a client's actions carry its identity", async () => {
    const filters = ['onConversationAdded', 'onConversationUpdated', 'onParticipantAdded', 'onParticipantRemoved'];
    await service().configuration.webhooks().update({ postWebhookUrl: rx.url('/post'), filters, method: 'POST' });
    const alice = await sdk.connect('alice');
    const created = await alice.createConversation({ friendlyName: 'joined' });
    await created.join();
    await created.add('bob');
    // the creator joins as channel admin, which may edit the attributes
    await created.updateAttributes({ topic: 'tea' });
    await created.removeParticipant('bob');
    const hooks = await received(() => true, 5);
    expect(rx.invalid()).toEqual([]);
    expect(hooks.map((r) => [r.params.EventType, r.params.Source, r.params.ClientIdentity, r.params.Identity])).toEqual([
      ['onConversationAdded', 'SDK', 'alice', undefined],
      ['onParticipantAdded', 'SDK', 'alice', 'alice'],
      ['onParticipantAdded', 'SDK', 'alice', 'bob'],
      ['onConversationUpdated', 'SDK', 'alice', undefined],
      ['onParticipantRemoved', 'SDK', 'alice', 'bob'],
    ]);
  });

  it("the pre-event of a client's message carries its identity; REST's does not", async () => {
    await service().configuration.webhooks().update({ preWebhookUrl: rx.url('/pre'), filters: ['onMessageAdd'], method: 'POST' });
    const sid = await sdk.conversationWith(['alice']);
    const alice = await sdk.connect('alice');
    await (await alice.getConversationBySid(sid)).sendMessage('asked first');
    await v1().conversations(sid).messages.create({ author: 'alice', body: 'by REST', xTwilioWebhookEnabled: 'true' });
    const hooks = await received(() => true, 2);
    expect(rx.invalid()).toEqual([]);
    expect(hooks.map((r) => [r.params.EventType, r.params.Source, r.params.ClientIdentity, r.params.Body])).toEqual([
      ['onMessageAdd', 'SDK', 'alice', 'asked first'],
      ['onMessageAdd', 'API', undefined, 'by REST'],
    ]);
  });
});

describe('User is_online / is_notifiable', () => {
  it('with reachability on: is_online follows the connection, is_notifiable a push binding; a list carries neither', async () => {
    await service().configuration().update({ reachabilityEnabled: true });
    await service().users.create({ identity: 'alice' });
    const fetchAlice = () => service().users('alice').fetch();
    // never connected: Twilio answers null, not false
    expect(await fetchAlice()).toMatchObject({ isOnline: null, isNotifiable: null });

    const alice = await sdk.connect('alice');
    expect((await fetchAlice()).isOnline).toBe(true);
    expect((await service().users.list()).map((u) => [u.identity, u.isOnline])).toEqual([['alice', null]]);

    const credential = await v1().credentials.create({ type: 'fcm', secret: 'SECRET' });
    const bound = await t.http('POST', '/_emulator/push-bindings', {
      body: JSON.stringify({ chatServiceSid: t.emulator.defaultServiceSid, identity: 'alice', bindingType: 'fcm', address: 'device-token', credentialSid: credential.sid }),
      contentType: 'application/json',
      auth: null,
    });
    expect(bound.status).toBe(201);
    expect((await fetchAlice()).isNotifiable).toBe(true);

    await alice.shutdown();
    const after = await until('alice offline', fetchAlice, (u) => u.isOnline !== true);
    expect([after.isOnline, after.isNotifiable]).toEqual([false, true]);
  });

  it('with reachability off (the default): null while connected', async () => {
    await sdk.connect('alice');
    const user = await service().users('alice').fetch();
    expect([user.identity, user.isOnline, user.isNotifiable]).toEqual(['alice', null, null]);
  });
});
