/**
 * twilio-conversations-emulator/testing, used exactly as a user's test file uses it: useEmulator (vitest's hooks
 * passed in), webhookSink for webhooks configured through the SDK, and emulator.channel for the simulated SMS
 * channel. The README's "Testing your app" example is run as its own vitest file at the end.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useEmulator, webhookSink, type WebhookSink } from '../src/testing/index.js';
import { emulatorHttpClient } from '../src/client.js';
import { runReadmeExample } from './support/readme-example.js';

const t = useEmulator({ hooks: { beforeAll, beforeEach, afterAll } });
let sink: WebhookSink;
beforeAll(async () => {
  sink = await webhookSink({ authToken: t.emulator.authToken });
});
beforeEach(() => sink.clear());
afterAll(() => sink.close());

const CUSTOMER = '+15558675310';
const PROXY = '+15017122661';

/** a conversation with one SMS participant, the customer, reached through PROXY */
async function smsConversation() {
  const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'Support' });
  await t.client.conversations.v1.conversations(conversation.sid).participants.create({ 'messagingBinding.address': CUSTOMER, 'messagingBinding.proxyAddress': PROXY });
  return conversation;
}

describe('useEmulator and webhookSink', () => {
  it('a conversation webhook set through the SDK reaches the sink, signed, and waitFor finds it', async () => {
    const conversation = await t.client.conversations.v1.conversations.create({ friendlyName: 'Support' });
    await t.client.conversations.v1.conversations(conversation.sid).webhooks.create({
      target: 'webhook',
      'configuration.url': `${sink.url}/hooks/conversations`,
      'configuration.method': 'post',
      'configuration.filters': ['onMessageAdded'],
    });
    const message = await t.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'alice', body: 'hello', xTwilioWebhookEnabled: 'true' });
    const received = await sink.waitFor('onMessageAdded', (r) => r.params.MessageSid === message.sid);
    expect(received.valid).toBe(true);
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/hooks/conversations');
    expect(received.params).toMatchObject({ EventType: 'onMessageAdded', ConversationSid: conversation.sid, Author: 'alice', Body: 'hello' });
    expect(received.headers['x-twilio-signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(sink.all().map((r) => r.params.EventType)).toEqual(['onMessageAdded']);
  });

  it('a forged request is answered 403 and recorded invalid; waitFor ignores it and its timeout lists it', async () => {
    const response = await fetch(`${sink.url}/hooks/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'Zm9yZ2VkIHNpZ25hdHVyZQ==' },
      body: new URLSearchParams({ EventType: 'onMessageAdded', Body: 'forged' }).toString(),
    });
    expect(response.status).toBe(403);
    expect(sink.all()).toHaveLength(1);
    expect(sink.all()[0]).toMatchObject({ valid: false, params: { EventType: 'onMessageAdded', Body: 'forged' } });
    await expect(sink.waitFor('onMessageAdded', undefined, 100)).rejects.toThrow(
      /no onMessageAdded webhook arrived at http:\/\/127\.0\.0\.1:\d+ within 100 ms; received 1:\n {2}POST \/hooks\/conversations onMessageAdded \(invalid signature\)/,
    );
  });

  it('a JSON body is checked with validateRequestWithBody (bodySHA256 in the URL)', async () => {
    const body = JSON.stringify({ EventType: 'onMessageAdded', Body: 'as json' });
    const url = `${sink.url}/json?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
    const signature = twilio.getExpectedTwilioSignature(t.emulator.authToken, url, {});
    const good = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signature }, body });
    const tampered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signature }, body: body.replace('as json', 'changed') });
    expect([good.status, tampered.status]).toEqual([200, 403]);
    const received = await sink.waitFor('onMessageAdded', undefined, 1000);
    expect(received.json).toEqual({ EventType: 'onMessageAdded', Body: 'as json' });
    expect(sink.all().map((r) => r.valid)).toEqual([true, false]);
  });

  describe('reset before each test', () => {
    it('a first test leaves a conversation behind', async () => {
      await t.client.conversations.v1.conversations.create({ friendlyName: 'left behind' });
      expect(await t.client.conversations.v1.conversations.list()).toHaveLength(1);
    });

    it('the next test sees no conversation', async () => {
      expect(await t.client.conversations.v1.conversations.list()).toEqual([]);
      expect(t.emulator.channel.outbox()).toEqual([]);
    });
  });

  it('without hooks, useEmulator says where to get them', () => {
    expect(() => useEmulator()).toThrow(
      "useEmulator: no global beforeAll, beforeEach, afterAll: run it under jest or vitest with `globals: true`, or pass the hooks: useEmulator({ hooks: { beforeAll, beforeEach, afterAll } }) with them imported from 'vitest'",
    );
  });

  it("the global hooks (jest, vitest globals) are used when present, and the fixture's getters are live", async () => {
    const registered: Record<string, () => unknown> = {};
    const globals = globalThis as Record<string, unknown>;
    for (const name of ['beforeAll', 'beforeEach', 'afterAll']) globals[name] = (fn: () => unknown) => void (registered[name] = fn);
    let fixture: ReturnType<typeof useEmulator>;
    try {
      fixture = useEmulator();
    } finally {
      for (const name of ['beforeAll', 'beforeEach', 'afterAll']) delete globals[name];
    }
    expect(Object.keys(registered).sort()).toEqual(['afterAll', 'beforeAll', 'beforeEach']);
    expect(() => fixture.client).toThrow('useEmulator: the emulator starts in beforeAll; read emulator and client inside tests and hooks');
    await registered.beforeAll();
    try {
      const conversation = await fixture.client.conversations.v1.conversations.create({ friendlyName: 'own' });
      expect(conversation.accountSid).toBe(fixture.emulator.accountSid);
      await registered.beforeEach();
      expect(await fixture.client.conversations.v1.conversations.list()).toEqual([]);
    } finally {
      await registered.afterAll();
    }
    expect(() => fixture.emulator).toThrow(/starts in beforeAll/);
  });
});

describe('useEmulator({ snapshot })', () => {
  it('starts every test from the snapshot, not from an empty emulator', async () => {
    const { createEmulator } = await import('../src/index.js');
    const source = await createEmulator();
    let snapshot: unknown;
    try {
      const client = twilio(source.accountSid, source.authToken, { httpClient: emulatorHttpClient(source.url) });
      await client.conversations.v1.conversations.create({ friendlyName: 'from the snapshot', uniqueName: 'seeded' });
      snapshot = await (await fetch(`${source.url}/_emulator/snapshot`)).json();
    } finally {
      await source.close();
    }
    const registered: Record<string, () => unknown> = {};
    const hook = (name: string) => (fn: () => unknown) => void (registered[name] = fn);
    const fixture = useEmulator({ snapshot: snapshot as never, hooks: { beforeAll: hook('beforeAll'), beforeEach: hook('beforeEach'), afterAll: hook('afterAll') } });
    await registered.beforeAll!();
    try {
      const names = async () => (await fixture.client.conversations.v1.conversations.list()).map((c) => c.uniqueName).sort();
      await registered.beforeEach!();
      expect(await names()).toEqual(['seeded']);
      await fixture.client.conversations.v1.conversations.create({ uniqueName: 'made by a test' });
      expect(await names()).toEqual(['made by a test', 'seeded']);
      await registered.beforeEach!();
      expect(await names()).toEqual(['seeded']);
    } finally {
      await registered.afterAll!();
    }
  });

  it('names a snapshot file it cannot read', async () => {
    const registered: Record<string, () => unknown> = {};
    const hook = (name: string) => (fn: () => unknown) => void (registered[name] = fn);
    useEmulator({ snapshot: '/nonexistent/state.json', hooks: { beforeAll: hook('beforeAll'), beforeEach: hook('beforeEach'), afterAll: hook('afterAll') } });
    await expect(registered.beforeAll!()).rejects.toThrow('the snapshot cannot be loaded: cannot read /nonexistent/state.json (ENOENT)');
  });
});

describe('emulator.channel', () => {
  it('inbound: a handset writes into the conversation holding the pair', async () => {
    const conversation = await smsConversation();
    const result = await t.emulator.channel.inbound({ from: CUSTOMER, to: PROXY, body: 'my order is late' });
    expect(result).toMatchObject({ routedTo: 'conversation', conversationSid: conversation.sid });
    const messages = await t.client.conversations.v1.conversations(conversation.sid).messages.list();
    expect(messages.map((m) => [m.sid, m.author, m.body])).toEqual([[result.messageSid, CUSTOMER, 'my order is late']]);
  });

  it('waitForReceipt resolves once an SMS is delivered, with no webhook configured', async () => {
    const conversation = await smsConversation();
    const message = await t.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent', body: 'on its way' });
    const [sms] = await t.emulator.channel.waitForReceipt(message.sid, 'delivered', 2000);
    expect(sms).toMatchObject({ messageSid: message.sid, to: CUSTOMER, from: PROXY, body: 'on its way', status: 'delivered' });
    expect(t.emulator.channel.outbox({ to: CUSTOMER }).map((m) => m.sid)).toEqual([sms.sid]);
    const receipts = await t.client.conversations.v1.conversations(conversation.sid).messages(message.sid).deliveryReceipts.list();
    expect(receipts.map((r) => r.status)).toEqual(['delivered']);
  });

  it('waitForReceipt rejects at its deadline saying where the message is; advance moves a manual handset on', async () => {
    const conversation = await smsConversation();
    t.emulator.channel.setHandset(CUSTOMER, { progression: 'manual' });
    const message = await t.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent', body: 'held' });
    await expect(t.emulator.channel.waitForReceipt(message.sid, 'delivered', 150)).rejects.toThrow(
      new RegExp(`^${message.sid} was not delivered within 150 ms: SM[0-9a-f]{32} to \\${CUSTOMER} queued$`),
    );
    expect(t.emulator.channel.advance(CUSTOMER).map((r) => r.status)).toEqual(['sent']);
    expect(t.emulator.channel.advance(CUSTOMER).map((r) => r.status)).toEqual(['delivered']);
    const [sms] = await t.emulator.channel.waitForReceipt(message.sid, 'sent', 100);
    expect(sms.status).toBe('delivered');
  });

  it('waitForReceipt rejects at once when the handset fails the message', async () => {
    const conversation = await smsConversation();
    t.emulator.channel.setHandset(CUSTOMER, 'undelivered');
    const message = await t.client.conversations.v1.conversations(conversation.sid).messages.create({ author: 'agent', body: 'lost' });
    const started = Date.now();
    await expect(t.emulator.channel.waitForReceipt(message.sid, 'delivered', 5000)).rejects.toThrow(
      new RegExp(`^${message.sid} will never be delivered: SM[0-9a-f]{32} to \\${CUSTOMER} undelivered \\(30003\\)$`),
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('waitForOutbox finds a Messaging API send, and lists the outbox when nothing matches', async () => {
    const sent = await t.client.messages.create({ to: CUSTOMER, from: PROXY, body: 'your code is 1234' });
    const found = await t.emulator.channel.waitForOutbox((m) => m.to === CUSTOMER && /\d{4}/.test(m.body ?? ''), 1000);
    expect(found).toMatchObject({ sid: sent.sid, from: PROXY, body: 'your code is 1234' });
    await expect(t.emulator.channel.waitForOutbox((m) => m.to === '+15550000000', 100)).rejects.toThrow(
      `no outbox message matched within 100 ms; the outbox holds 1:\n  ${sent.sid} to ${CUSTOMER} delivered from ${PROXY}: "your code is 1234"`,
    );
  });
});

describe('README "Testing your app"', () => {
  it('its example is a vitest file that type-checks and passes as it stands', async () => {
    const run = await runReadmeExample('testing-example');
    expect(run.source).toContain("from '../../src/testing/index.js'");
    expect(run.typeCheck).toBe('clean');
    expect(run.outcome).toBe('passed');
    expect(run.stdout).toMatch(/Tests\s+2 passed \(2\)/);
  }, 180_000);
});
