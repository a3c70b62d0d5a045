/**
 * `conversationsClient` from twilio-conversations-emulator/testing: the real @twilio/conversations SDK connected to
 * a useEmulator emulator. The README's "Testing your front end" example is run as its own vitest file at the end.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client, Message } from '@twilio/conversations';
import { conversationsClient, twilsockUri, useEmulator } from '../src/testing/index.js';
import { runReadmeExample } from './support/readme-example.js';

const t = useEmulator({ hooks: { beforeAll, beforeEach, afterAll } });
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.shutdown()));
});

async function connect(identity: string, options?: Parameters<typeof conversationsClient>[2]): Promise<Client> {
  const client = await conversationsClient(t.emulator, identity, options);
  clients.push(client);
  return client;
}

describe('conversationsClient', () => {
  it('is an initialised client of the identity, connected to this emulator', async () => {
    const { sid } = await t.client.conversations.v1.conversations.create({ friendlyName: 'mine' });
    await t.client.conversations.v1.conversations(sid).participants.create({ identity: 'alice' });
    const alice = await connect('alice');
    expect([alice.connectionState, alice.user.identity]).toEqual(['connected', 'alice']);
    expect((await alice.getSubscribedConversations()).items.map((c) => c.sid)).toEqual([sid]);
    expect(t.emulator.clientConnections().map((c) => c.identity)).toEqual(['alice']);
  });

  it("a client's message reaches another client and is the row REST lists", async () => {
    const { sid } = await t.client.conversations.v1.conversations.create({ friendlyName: 'pair' });
    for (const identity of ['alice', 'bob']) await t.client.conversations.v1.conversations(sid).participants.create({ identity });
    const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
    const received = new Promise<Message>((resolve) => bob.on('messageAdded', resolve));
    await (await bob.getConversationBySid(sid)).getMessages();
    await (await alice.getConversationBySid(sid)).sendMessage('over the wire');
    const message = await received;
    const listed = await t.client.conversations.v1.conversations(sid).messages.list();
    expect(listed.map((m) => [m.sid, m.author, m.body])).toEqual([[message.sid, 'alice', 'over the wire']]);
  });

  it('passes the token options on: a service other than the default', async () => {
    const service = await t.client.conversations.v1.services.create({ friendlyName: 'other' });
    const alice = await connect('alice', { serviceSid: service.sid });
    const created = await alice.createConversation({ friendlyName: 'in other' });
    const listed = await t.client.conversations.v1.services(service.sid).conversations.list();
    expect(listed.map((c) => c.sid)).toEqual([created.sid]);
  });

  it('rejects saying why when the client fails to initialise: nothing listens at the address', async () => {
    const nowhere = { url: 'http://127.0.0.1:9', clientToken: t.emulator.clientToken };
    await expect(conversationsClient(nowhere, 'carol', { timeoutMs: 5_000 })).rejects.toThrow(
      'conversationsClient: carol failed to initialise: Socket error: connect ECONNREFUSED 127.0.0.1:9',
    );
  });

  it('rejects at its deadline when the server never answers, and shuts its client down', async () => {
    // a WebSocket server that accepts and stays silent: the SDK waits for its init reply forever
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(silent, 'listening');
    const sockets: WebSocket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    try {
      const { port } = silent.address() as AddressInfo;
      const mute = { url: `http://127.0.0.1:${port}`, clientToken: t.emulator.clientToken };
      const started = Date.now();
      await expect(conversationsClient(mute, 'carol', { timeoutMs: 300 })).rejects.toThrow(/^conversationsClient: carol was not initialised within 300 ms \(\w+\)$/);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(sockets).toHaveLength(1);
      // the shut-down client closed its socket
      await vi.waitFor(() => expect(sockets[0]!.readyState).toBe(WebSocket.CLOSED), { timeout: 3_000 });
    } finally {
      for (const socket of silent.clients) socket.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('twilsockUri is the emulator address as ws://…/v3/wsconnect', () => {
    expect(twilsockUri(t.emulator)).toBe(`${t.emulator.url.replace('http://', 'ws://')}/v3/wsconnect`);
    expect(twilsockUri({ url: 'https://tce.example.test' })).toBe('wss://tce.example.test/v3/wsconnect');
  });
});

describe('README "Testing your front end"', () => {
  it('its example is a vitest file that type-checks and passes as it stands', async () => {
    const run = await runReadmeExample('frontend-example');
    expect(run.source).toContain("from '../../src/testing/index.js'");
    expect(run.source).toContain("from '@twilio/conversations'");
    expect(run.typeCheck).toBe('clean');
    expect(run.outcome).toBe('passed');
    expect(run.stdout).toMatch(/Tests\s+1 passed \(1\)/);
  }, 180_000);
});
