/**
 * The unmodified `@twilio/conversations` SDK, each pinned version (3.0.1, 2.6.5), against an in-process emulator: the
 * only change an app makes is `Twilsock: { uri }`. Conversations and participants are made with the REST SDK `twilio`.
 */
import { describe, expect, it } from 'vitest';
import type { Conversation, Message, Participant } from '@twilio/conversations';
import type { TestEmulator } from './support/emulator.js';
import { startReceiver } from './support/webhook-receiver.js';
import { percentile, SDK_VERSIONS, sdkTestbed, within } from './support/conversations-sdk.js';

describe.each(SDK_VERSIONS)('@twilio/conversations %s against the emulator', (version, Sdk) => {
  let t: TestEmulator;
  const sdk = sdkTestbed((started) => (t = started), Sdk);
  const { connect, subscribed, conversationWith, wsUri, clients } = sdk;

  it('connects, initialises and lists the conversations its identity is a participant of', async () => {
    const mine = await conversationWith(['alice', 'bob'], 'mine');
    await conversationWith(['bob'], 'not mine');
    const alice = await connect('alice');
    expect(Sdk.version).toBe(version);
    expect(alice.connectionState).toBe('connected');
    expect(alice.user.identity).toBe('alice');
    const page = await alice.getSubscribedConversations();
    expect(page.items.map((c: Conversation) => [c.sid, c.friendlyName])).toEqual([[mine, 'mine']]);
    await t.client.conversations.v1.conversations(mine).update({ uniqueName: 'room-1' });
    expect((await alice.getConversationByUniqueName('room-1')).sid).toBe(mine);
    expect(await alice.getContentTemplates()).toEqual([]);
  });

  it('reads messages and participants that REST made', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    await t.client.conversations.v1.conversations(sid).messages.create({ author: 'bob', body: 'hello alice' });
    await t.client.conversations.v1.conversations(sid).messages.create({ author: 'alice', body: 'hi bob' });
    const alice = await connect('alice');
    const conversation = await alice.getConversationBySid(sid);
    const messages = await conversation.getMessages();
    expect(messages.items.map((m: Message) => [m.index, m.author, m.body])).toEqual([[0, 'bob', 'hello alice'], [1, 'alice', 'hi bob']]);
    const participants = await conversation.getParticipants();
    expect(participants.map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
  });

  it('sendMessage from one client fires messageAdded on the other, and REST lists the message', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
    const bobsConversation = await bob.getConversationBySid(sid);
    await bobsConversation.getMessages();
    await subscribed('bob', `${sid}.messages`);
    const added = new Promise<Message>((resolve) => bob.on('messageAdded', resolve));
    const aliceConversation = await alice.getConversationBySid(sid);
    const sent = performance.now();
    await aliceConversation.sendMessage('hello from the browser');
    const message = await within(5_000, 'messageAdded on bob', added);
    const latency = performance.now() - sent;
    expect(latency).toBeLessThan(1000);
    expect([message.author, message.body, message.index, message.conversation.sid]).toEqual(['alice', 'hello from the browser', 0, sid]);
    const listed = await t.client.conversations.v1.conversations(sid).messages.list();
    expect(listed.map((m) => [m.author, m.body, m.sid])).toEqual([['alice', 'hello from the browser', message.sid]]);
  });

  it('messageAdded latency over 50 messages, in order (p50/p99 printed)', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
    const bobs = await bob.getConversationBySid(sid);
    await bobs.getMessages();
    await subscribed('bob', `${sid}.messages`);
    const alices = await alice.getConversationBySid(sid);
    const arrivals = new Map<string, (at: number) => void>();
    const indexes: number[] = [];
    bobs.on('messageAdded', (m: Message) => {
      indexes.push(m.index);
      arrivals.get(m.body ?? '')?.(performance.now());
    });
    const fromCall: number[] = [];
    const fromResolve: number[] = [];
    for (let i = 0; i < 50; i++) {
      const body = `message ${i}`;
      const arrived = new Promise<number>((resolve) => arrivals.set(body, resolve));
      const called = performance.now();
      await alices.sendMessage(body);
      const resolved = performance.now();
      const at = await within(5_000, `messageAdded of ${body}`, arrived);
      fromCall.push(at - called);
      // the push may overtake the command's answer: then it was there when sendMessage resolved
      fromResolve.push(Math.max(0, at - resolved));
    }
    expect(indexes).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Math.max(...fromCall)).toBeLessThan(1000);
    const ms = (values: number[], p: number) => `${percentile([...values].sort((a, b) => a - b), p).toFixed(1)} ms`;
    console.log(
      `SDK ${version} messageAdded latency, 50 messages: sendMessage resolve -> messageAdded p50 ${ms(fromResolve, 50)} p99 ${ms(fromResolve, 99)}; ` +
        `sendMessage call -> messageAdded p50 ${ms(fromCall, 50)} p99 ${ms(fromCall, 99)}`,
    );
  });

  it("a client's message fires the service's onMessageAdded webhook with Source=SDK", async () => {
    const rx = await startReceiver(() => t.emulator.authToken);
    try {
      await t.client.conversations.v1.services(t.emulator.defaultServiceSid).configuration.webhooks().update({ postWebhookUrl: rx.url('/hook'), filters: ['onMessageAdded'], method: 'POST' });
      const sid = await conversationWith(['alice']);
      const alice = await connect('alice');
      await (await alice.getConversationBySid(sid)).sendMessage('webhooked');
      const delivery = await t.emulator.control.waitForDelivery((d) => d.state === 'delivered' && d.eventType === 'onMessageAdded', 5000);
      expect(delivery.params).toMatchObject({ Source: 'SDK', Author: 'alice', Body: 'webhooked', ConversationSid: sid });
      expect(rx.requests.map((r) => r.signatureValid)).toEqual([true]);
    } finally {
      await rx.close();
    }
  });

  it('live: a REST message, a participant joining and leaving, and being added to a new conversation', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    const bob = await connect('bob');
    const conversation = await bob.getConversationBySid(sid);
    await Promise.all([conversation.getMessages(), conversation.getParticipants()]);
    await subscribed('bob', `${sid}.messages`);
    await subscribed('bob', `${sid}.roster`);

    const added = new Promise<Message>((resolve) => conversation.on('messageAdded', resolve));
    await t.client.conversations.v1.conversations(sid).messages.create({ author: 'support-bot', body: 'from REST' });
    expect(await within(5_000, 'messageAdded', added).then((m) => [m.author, m.body])).toEqual(['support-bot', 'from REST']);

    const joined = new Promise<Participant>((resolve) => conversation.on('participantJoined', resolve));
    const carol = await t.client.conversations.v1.conversations(sid).participants.create({ identity: 'carol' });
    expect((await within(5_000, 'participantJoined', joined)).identity).toBe('carol');
    const left = new Promise<Participant>((resolve) => conversation.on('participantLeft', resolve));
    await t.client.conversations.v1.conversations(sid).participants(carol.sid).remove();
    expect((await within(5_000, 'participantLeft', left)).identity).toBe('carol');

    const config = t.emulator.clientConnections().find((c) => c.identity === 'bob');
    const myConversations = config?.subscriptions.find((s) => s.endsWith('.channels'));
    expect(myConversations).toBeDefined();
    await subscribed('bob', myConversations as string);
    const joinedConversation = new Promise<Conversation>((resolve) => bob.on('conversationJoined', (c) => c.sid !== sid && resolve(c)));
    const fresh = await conversationWith(['bob'], 'fresh');
    const seen = await within(5_000, 'conversationJoined', joinedConversation);
    expect([seen.sid, seen.friendlyName]).toEqual([fresh, 'fresh']);
  });

  it('typing on one client fires typingStarted on the other', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
    const bobs = await bob.getConversationBySid(sid);
    await bobs.getParticipants();
    const started = new Promise<Participant>((resolve) => bobs.on('typingStarted', resolve));
    const alices = await alice.getConversationBySid(sid);
    await alices.typing();
    expect((await within(5_000, 'typingStarted', started)).identity).toBe('alice');
  });

  it('read horizon: setAllMessagesRead and unread counts, also as REST shows them', async () => {
    const sid = await conversationWith(['alice']);
    for (const body of ['one', 'two', 'three']) await t.client.conversations.v1.conversations(sid).messages.create({ author: 'bob', body });
    const alice = await connect('alice');
    const conversation = await alice.getConversationBySid(sid);
    expect(await conversation.getUnreadMessagesCount()).toBeNull();
    expect(await conversation.getMessagesCount()).toBe(3);
    expect(await conversation.updateLastReadMessageIndex(0)).toBe(2);
    expect(await conversation.setAllMessagesRead()).toBe(0);
    const participant = (await t.client.conversations.v1.conversations(sid).participants.list())[0];
    expect(participant?.lastReadMessageIndex).toBe(2);
    expect(await conversation.setAllMessagesUnread()).toBeNull();
    expect((await t.client.conversations.v1.conversations(sid).participants.list())[0]?.lastReadMessageIndex).toBeNull();
  });

  it('refuses a forged token: a terminal connectionError with the reason, and the client is denied', async () => {
    const token = t.emulator.clientToken('mallory');
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(32, 1).toString('base64url')}`;
    const client = new Sdk(forged, { Twilsock: { uri: wsUri() }, logLevel: 'silent' });
    clients.push(client);
    const failed = new Promise<void>((resolve) => client.once('initFailed', () => resolve()));
    const error = await within(10_000, 'connectionError', new Promise<{ message: string; terminal: boolean; errorCode?: number }>((resolve) => client.once('connectionError', resolve)));
    expect(error).toMatchObject({ terminal: true, errorCode: 20107 });
    expect(error.message).toMatch(/Invalid Access Token signature/);
    await within(5_000, 'initFailed', failed);
    expect(client.connectionState).toBe('denied');
  });

  it('token expiry: tokenAboutToExpire, updateToken keeps the client going, tokenExpired when not renewed', async () => {
    const sid = await conversationWith(['alice']);
    t.emulator.clock.setMode('manual');
    try {
      const alice = await connect('alice', t.emulator.clientToken('alice', { ttl: 600 }));
      const warned = new Promise<void>((resolve) => alice.once('tokenAboutToExpire', () => resolve()));
      t.emulator.clock.advance(545);
      await within(5_000, 'tokenAboutToExpire', warned);
      await alice.updateToken(t.emulator.clientToken('alice', { ttl: 600 }));
      t.emulator.clock.advance(120);
      // past the first token's expiry: still connected, still sending
      const conversation = await alice.getConversationBySid(sid);
      expect(await conversation.sendMessage('still here')).toBe(0);
      expect(alice.connectionState).toBe('connected');

      const expired = new Promise<void>((resolve) => alice.once('tokenExpired', () => resolve()));
      t.emulator.clock.advance(600);
      await within(5_000, 'tokenExpired', expired);
    } finally {
      t.emulator.clock.reset();
    }
  });

  it('reconnects after the connection drops and gets what it missed', async () => {
    const sid = await conversationWith(['alice', 'bob']);
    const bob = await connect('bob');
    const conversation = await bob.getConversationBySid(sid);
    await conversation.getMessages();
    await subscribed('bob', `${sid}.messages`);
    const states: string[] = [];
    bob.on('connectionStateChanged', (state) => states.push(state));
    const reconnected = new Promise<void>((resolve) => bob.on('connectionStateChanged', (state) => state === 'connected' && resolve()));
    expect(t.emulator.dropClientConnections('bob')).toBe(1);
    await t.client.conversations.v1.conversations(sid).messages.create({ author: 'alice', body: 'while you were away' });
    const added = new Promise<Message>((resolve) => conversation.on('messageAdded', resolve));
    await within(15_000, 'reconnected', reconnected);
    expect((await within(10_000, 'missed messageAdded', added)).body).toBe('while you were away');
    expect(states).toContain('connecting');
  }, 40_000);
});
