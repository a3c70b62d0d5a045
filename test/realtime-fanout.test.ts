/**
 * Many real SDK clients in one conversation: every one gets a message live. Prints the time from `new Client` to
 * `initialized` and the fan-out latency (REST create → each client's messageAdded), p50/p99.
 * TCE_FANOUT_CLIENTS sets the count (default 25 in the suite; the README's figures use 100).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Message } from '@twilio/conversations';
import { startEmulator, type TestEmulator } from './support/emulator.js';
import { percentile, sdkHarness, within } from './support/conversations-sdk.js';

const COUNT = Number(process.env.TCE_FANOUT_CLIENTS ?? 25);
let t: TestEmulator;
const sdk = sdkHarness(() => t);

beforeAll(async () => {
  t = await startEmulator();
});
afterAll(async () => {
  await sdk.shutdown();
  await t.emulator.close();
});

describe('fan-out', () => {
  it(`delivers one message to ${COUNT} connected clients`, async () => {
    const identities = Array.from({ length: COUNT }, (_, i) => `user${String(i).padStart(3, '0')}`);
    const sid = await sdk.conversationWith(identities, 'crowd');
    const inits: number[] = [];
    const clients: Client[] = [];
    // in batches, as a crowd arrives
    for (let i = 0; i < identities.length; i += 10) {
      const batch = identities.slice(i, i + 10);
      clients.push(...(await Promise.all(batch.map(async (identity) => {
        const started = performance.now();
        const client = await sdk.connect(identity);
        inits.push(performance.now() - started);
        return client;
      }))));
    }
    const conversations = await Promise.all(clients.map(async (client) => {
      const conversation = await client.getConversationBySid(sid);
      await conversation.getMessages();
      return conversation;
    }));
    await Promise.all(identities.map((identity) => sdk.subscribed(identity, `${sid}.messages`)));

    let sent = 0;
    const latencies = conversations.map((conversation) => new Promise<number>((resolve) => {
      conversation.on('messageAdded', (m: Message) => m.body === 'to everyone' && resolve(performance.now() - sent));
    }));
    sent = performance.now();
    await t.client.conversations.v1.conversations(sid).messages.create({ author: 'announcer', body: 'to everyone' });
    const got = (await within(20_000, `messageAdded on all ${COUNT}`, Promise.all(latencies))).sort((a, b) => a - b);
    const initSorted = [...inits].sort((a, b) => a - b);
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    console.log(
      `realtime fan-out, ${COUNT} clients: initialized p50 ${ms(percentile(initSorted, 50))} p99 ${ms(percentile(initSorted, 99))}; ` +
        `messageAdded p50 ${ms(percentile(got, 50))} p99 ${ms(percentile(got, 99))}`,
    );
    expect(got).toHaveLength(COUNT);
  }, 120_000);
});
