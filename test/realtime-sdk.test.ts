/**
 * The unmodified `@twilio/conversations` SDK (3.0.1) against an in-process emulator: the only change an app makes
 * is `Twilsock: { uri }`. Conversations and participants are made with the REST SDK `twilio`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Client, type Conversation, type Message } from '@twilio/conversations';
import { startEmulator, type TestEmulator } from './support/emulator.js';

// Node 20 has no global WebSocket; the SDK uses the global one when there is one (twilsock websocketchannel.ts)
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

let t: TestEmulator;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startEmulator();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown().catch(() => undefined)));
  t.emulator.reset();
});
afterAll(() => t.emulator.close());

function wsUri(): string {
  return `${t.emulator.url.replace(/^http/, 'ws')}/v3/wsconnect`;
}

/** A client for `identity`, initialised (or the reason it was not, within the deadline). */
async function connect(identity: string, token = t.emulator.clientToken(identity)): Promise<Client> {
  const client = new Client(token, { Twilsock: { uri: wsUri() }, logLevel: 'silent' });
  clients.push(client);
  await within(10_000, `${identity} initialised`, new Promise<void>((resolve, reject) => {
    client.once('initialized', () => resolve());
    client.once('initFailed', ({ error }) => reject(new Error(`init failed: ${error?.message ?? 'unknown'}`)));
  }));
  return client;
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolve once the emulator sees `identity` subscribed to `objectSid` (so what follows is a live push, not a replay). */
async function subscribed(identity: string, objectSid: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!t.emulator.clientConnections().some((c) => c.identity === identity && c.subscriptions.includes(objectSid))) {
    if (Date.now() > deadline) throw new Error(`${identity} never subscribed to ${objectSid}: ${JSON.stringify(t.emulator.clientConnections())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function conversationWith(identities: string[], friendlyName = 'support'): Promise<string> {
  const c = await t.client.conversations.v1.conversations.create({ friendlyName });
  for (const identity of identities) await t.client.conversations.v1.conversations(c.sid).participants.create({ identity });
  return c.sid;
}

describe('@twilio/conversations against the emulator', () => {
  it('connects, initialises and lists the conversations its identity is a participant of', async () => {
    const mine = await conversationWith(['alice', 'bob'], 'mine');
    await conversationWith(['bob'], 'not mine');
    const alice = await connect('alice');
    expect(alice.connectionState).toBe('connected');
    expect(alice.user.identity).toBe('alice');
    const page = await alice.getSubscribedConversations();
    expect(page.items.map((c: Conversation) => [c.sid, c.friendlyName])).toEqual([[mine, 'mine']]);
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
});
